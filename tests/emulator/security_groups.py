"""Security groups as a filter on HTTP traffic, for accounts that name a client address.

Every HTTP client of the emulator connects from 127.0.0.1, so there is no real
source address to judge. An account's `client_address` setting says where its
clients would come from on the internet ("the learner's laptop", "the
autograder"); when it is set, a connection to a task's responder or to a load
balancer's listener is judged against the security groups in front of it, as AWS
does with every packet:

* admitted when some ingress rule of one of the groups allows TCP (or all
  traffic) on the port from a CIDR that contains the client address; the
  connection is then served as if it came from that address (access log,
  `X-Forwarded-For`);
* otherwise dropped: AWS sends nothing back, so the client waits until it gives
  up. The emulator holds the connection open and silent (see `hold_silently`).

Without the setting nothing is filtered. Traffic from a load balancer to its
targets is never judged: the caller recognises it by its source address (see
`PublicIpPool.is_load_balancer` in task_runtime.py). Egress rules, source-group
rules, prefix lists and IPv6 ranges play no part.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from http.server import ThreadingHTTPServer
from typing import Any

from moto.ec2.models import ec2_backends

# A dropped connection is closed from the emulator's side after this long, to
# free its thread; a client normally gives up sooner (an ALB's idle timeout is
# also 60 s).
DROPPED_HOLD_SECONDS = 60.0

# Per connection: given the peer's address, the address to serve it as (the
# account's client address, or the peer itself), or None to drop it.
ConnectionGate = Callable[[str], str | None]


def ingress_admits(groups: Iterable[Any], port: int, client: str) -> bool:
    """Whether some ingress rule of these moto security groups lets `client` reach
    TCP `port`: protocol tcp on a range holding the port, or all traffic (-1), from
    an IPv4 CIDR containing the client (0.0.0.0/0 included)."""
    address = ipaddress.IPv4Address(client)
    for group in groups:
        for rule in list(group.ingress_rules):
            # moto normalises the protocol: "6" and "TCP" are stored as "tcp", "all" as "-1".
            if rule.ip_protocol == "tcp":
                try:
                    if not int(rule.from_port) <= port <= int(rule.to_port):
                        continue
                except (TypeError, ValueError):
                    continue
            elif rule.ip_protocol != "-1":
                continue
            cidr = (rule.ip_range or {}).get("CidrIp")
            if not cidr:
                continue  # a source-group or prefix-list rule names no internet client
            try:
                if address in ipaddress.IPv4Network(cidr, strict=False):
                    return True
            except ValueError:
                continue
    return False


def security_groups_by_id(account_id: str, region: str, group_ids: Iterable[str], vpc_id: str | None) -> list[Any]:
    """moto's groups with these ids; with no id at all the VPC's default group, as
    AWS gives a load balancer created without security groups. The caller holds
    the backend lock."""
    # dict.get, not []: a lookup must never create an account's backend.
    regions = dict.get(ec2_backends, account_id)
    backend = dict.get(regions, region) if regions is not None else None
    if backend is None:
        return []
    ids = list(group_ids)
    if not ids:
        default = backend.get_default_security_group(vpc_id) if vpc_id else None
        return [default] if default is not None else []
    groups = [backend.get_security_group_from_id(group_id) for group_id in ids]
    return [group for group in groups if group is not None]


def hold_silently(connection: socket.socket, seconds: float = DROPPED_HOLD_SECONDS) -> None:
    """Keep a dropped connection open and silent until the client gives up.

    AWS drops the packets a security group does not admit, so the client hears
    nothing and times out (curl exits 28). The TCP handshake has already completed
    here (the kernel accepts before the emulator can judge), so a client's connect
    succeeds; only the answer never comes. Whatever the client sends is read and
    thrown away, which is what dropping it means, and is how its giving up (end of
    stream) shows. After `seconds` the emulator closes the connection itself.
    """
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            connection.settimeout(left)
            if not connection.recv(65536):
                return  # the client closed its end
    except OSError:  # the deadline (TimeoutError), or the client reset the connection
        return


class GatedHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that asks `admit` about each connection before serving it.

    The question is asked in the connection's own thread, so a gate that takes the
    backend lock never stalls the accept loop, and a dropped connection holds only
    its own thread (never the lock: the gate has returned by then).
    """

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def admit(self, peer: str) -> str | None:
        """The address to serve a connection from `peer` as, or None to drop it."""
        return peer

    def finish_request(self, request: Any, client_address: Any) -> None:
        seen_as = self.admit(client_address[0])
        if seen_as is None:
            hold_silently(request)
            return  # process_request_thread closes the socket
        # The handler sees the client as the gate names it: nginx logs that address
        # and the load balancer forwards it in X-Forwarded-For.
        super().finish_request(request, (seen_as, *client_address[1:]))

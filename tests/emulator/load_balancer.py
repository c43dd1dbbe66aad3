"""Application Load Balancers that route traffic; moto only records them.

moto stores load balancers, listeners and target groups, calls every registered
target `healthy`, and nothing listens anywhere. Here, as on AWS:

* a task of an ECS service with `loadBalancers` is registered in each `ip` target
  group (its private IP, the container port) once it runs, and deregistered when
  it stops (`register_task`, `deregister_task`, called by the ECS scheduler);
* every registered `ip` target is health-checked against the responder of the
  task that holds the IP: GET on the target group's health check path, healthy
  when the status is in its matcher. A task's targets are checked the moment they
  are registered (so they start healthy, never `initial`), then every
  HealthCheckIntervalSeconds, and at once when the health check settings change;
  targets registered through the API are checked within `HEALTH_LOOP_INTERVAL`.
  DescribeTargetHealth reports the outcome;
* each internet-facing application load balancer gets a loopback address as its
  `DNSName` (from the task IP pool), and each HTTP listener a reverse proxy on that
  address and port, which forwards requests round robin to the healthy targets of
  its default action's target groups (all unhealthy: to all of them, as ALB "fails
  open"; none: 503, as ALB answers). The proxy goes when the listener or the load
  balancer is deleted;
* when the account sets `client_address`, a client's connection to a listener is
  judged against the load balancer's security groups (security_groups.py) and
  dropped silently unless admitted. Proxied requests and health checks come from
  the load balancer's address, which the task responders recognise and admit.

Methods that read moto expect the caller to hold the backend lock, except the
proxy's and the health checker's own threads, which take it briefly and never
hold it across an HTTP exchange (a responder takes it to write its access log).
"""

from __future__ import annotations

import http.client
import secrets
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup, elbv2_backends

from account_settings import SETTINGS
from security_groups import GatedHTTPServer, ingress_admits, security_groups_by_id
from task_runtime import TaskRuntimes, task_private_ip

# How often the health checker looks for targets due a check.
HEALTH_LOOP_INTERVAL = 0.2
# A health check waits at most this long (AWS: HealthCheckTimeoutSeconds, 5 s by
# default); the responders answer in milliseconds, so more only slows tests.
HEALTH_CHECK_TIMEOUT_CAP = 2.0
HEALTH_CHECKER_AGENT = "ELB-HealthChecker/2.0"
# How long the proxy waits for a target (an ALB's idle timeout is 60 s).
PROXY_TIMEOUT = 10.0
# Requests and answers on a hop, not forwarded (RFC 9110 section 7.6.1).
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


def alb_page(status: int, reason: str) -> bytes:
    """The page an ALB answers itself with (503 with no target, 502, 504)."""
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    ).encode()


@dataclass(frozen=True)
class TargetKey:
    """One registered target of one target group."""

    account_id: str
    region: str
    target_group_arn: str
    target_id: str  # the private IP, for an `ip` target group
    port: int


@dataclass(frozen=True)
class HealthCheck:
    """A target group's health check settings, as one comparable value."""

    protocol: str
    port: str  # "traffic-port" or a number
    path: str
    matcher: str  # "200", "200,202", "200-299"
    timeout: float
    interval: float


@dataclass
class HealthResult:
    state: str  # healthy | unhealthy
    reason: str | None
    description: str | None
    checked_at: float  # time.monotonic()
    check: HealthCheck


@dataclass
class Route:
    """Where the proxy sends one request: a target, or an answer of its own."""

    address: str | None = None  # the responder's loopback address
    port: int = 0
    target: str = ""  # "PRIVATE_IP:PORT", shown in X-Emulator-Target
    status: int = 0  # the ALB answers itself when set
    reason: str = ""
    body: bytes = b""
    content_type: str = "text/html"
    location: str | None = None


def health_check_of(target_group: Any) -> HealthCheck:
    return HealthCheck(
        protocol=(target_group.health_check_protocol or "HTTP").upper(),
        port=str(target_group.health_check_port or "traffic-port"),
        path=target_group.health_check_path or "/",
        matcher=str((getattr(target_group, "matcher", None) or {}).get("HttpCode") or "200"),
        timeout=min(float(target_group.health_check_timeout_seconds or 5), HEALTH_CHECK_TIMEOUT_CAP),
        interval=float(target_group.health_check_interval_seconds or 30),
    )


def code_matches(status: int, matcher: str) -> bool:
    """Whether an HTTP status is in a matcher such as `200`, `200,202` or `200-299`."""
    for part in matcher.replace(" ", "").split(","):
        low, _, high = part.partition("-")
        try:
            if int(low) <= status <= int(high or low):
                return True
        except ValueError:
            continue
    return False


def check_target(
    address: str | None, target_ip: str, port: int, check: HealthCheck, source: str
) -> HealthResult:
    """Send one health check from `source` (a load balancer's address), as the ALB's
    health checker would."""
    now = time.monotonic()
    check_port = port if check.port == "traffic-port" else int(check.port)
    if address is None:
        # No running task holds this IP: nothing answers, the check times out.
        return HealthResult("unhealthy", "Target.Timeout", "Request timed out", now, check)
    if check.protocol == "TCP":
        # A network load balancer's check: the connection alone decides.
        try:
            socket.create_connection(
                (address, check_port), timeout=check.timeout, source_address=(source, 0)
            ).close()
        except TimeoutError:
            return HealthResult("unhealthy", "Target.Timeout", "Request timed out", now, check)
        except OSError:
            return HealthResult("unhealthy", "Target.FailedHealthChecks", "Health checks failed", now, check)
        return HealthResult("healthy", None, None, now, check)
    if check.protocol != "HTTP":
        # The responders speak plain HTTP; a TLS handshake with them fails.
        return HealthResult("unhealthy", "Target.FailedHealthChecks", "Health checks failed", now, check)
    connection = http.client.HTTPConnection(
        address, check_port, timeout=check.timeout, source_address=(source, 0)
    )
    try:
        connection.request(
            "GET",
            check.path,
            headers={"Host": f"{target_ip}:{check_port}", "User-Agent": HEALTH_CHECKER_AGENT},
        )
        response = connection.getresponse()
        response.read()
        status = response.status
    except TimeoutError:
        return HealthResult("unhealthy", "Target.Timeout", "Request timed out", now, check)
    except (OSError, http.client.HTTPException):
        return HealthResult("unhealthy", "Target.FailedHealthChecks", "Health checks failed", now, check)
    finally:
        connection.close()
    if code_matches(status, check.matcher):
        return HealthResult("healthy", None, None, now, check)
    return HealthResult(
        "unhealthy",
        "Target.ResponseCodeMismatch",
        f"Health checks failed with these codes: [{status}]",
        now,
        check,
    )


def routes_traffic(load_balancer: Any) -> bool:
    """Only internet-facing ALBs get an address and proxies (see the README)."""
    return load_balancer.type == "application" and load_balancer.scheme == "internet-facing"


def target_group_arns(action: Any) -> list[str]:
    """The target groups a forward action sends to (weight 0 sends nothing)."""
    data = getattr(action, "data", None) or {}
    if data.get("TargetGroupArn"):
        return [data["TargetGroupArn"]]
    groups = (data.get("ForwardConfig") or {}).get("TargetGroups") or []
    return [g["TargetGroupArn"] for g in groups if int(g.get("Weight", 1) or 0) > 0]


def elbv2_backend(account_id: str, region: str) -> Any | None:
    # dict.get, not []: a lookup must never create an account's backend.
    regions = dict.get(elbv2_backends, account_id)
    return dict.get(regions, region) if regions is not None else None


def all_elbv2_backends() -> list[Any]:
    return [
        backend
        for regions in list(elbv2_backends.values())
        for backend in list(regions.values())
    ]


class LoadBalancers:
    """Target registration, health checks and the listeners' proxies."""

    def __init__(self, lock: threading.RLock, runtimes: TaskRuntimes):
        self._lock = lock
        self._runtimes = runtimes
        self._health: dict[TargetKey, HealthResult] = {}
        self._registrations: dict[int, list[TargetKey]] = {}  # id(task) -> its targets
        # (account, region, load balancer ARN) -> the loopback address of its DNSName.
        self._addresses: dict[tuple[str, str, str], str] = {}
        # (account, region, listener ARN) -> its proxy.
        self._proxies: dict[tuple[str, str, str], ListenerProxy] = {}
        self._bind_failures: set[tuple[str, str, str]] = set()
        self._next_target: dict[tuple[str, str, str], int] = {}
        # Where health checks of a group no routing load balancer sends to come from.
        self._checker_address: str | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error = ""

    # ----- moto ----------------------------------------------------------------------

    def patch_moto(self) -> None:
        """Route through the emulator what moto decides alone.

        CreateLoadBalancer: moto's `NAME-1.REGION.elb.amazonaws.com` resolves
        nowhere, so an internet-facing ALB gets a loopback address as its DNSName.
        DescribeTargetHealth: moto calls every registered target healthy; an `ip`
        target's health is the last health check's outcome here.
        """
        balancers = self
        original_create = ELBv2Backend.create_load_balancer
        original_health_for = FakeTargetGroup.health_for

        def create_load_balancer(backend: Any, *args: Any, **kwargs: Any) -> Any:
            load_balancer = original_create(backend, *args, **kwargs)
            if routes_traffic(load_balancer):
                load_balancer.dns_name = balancers._address_of(
                    backend.account_id, backend.region_name, load_balancer.arn
                )
            return load_balancer

        def health_for(target_group: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
            status = original_health_for(target_group, target, ec2_backend)
            # moto says `healthy` exactly for registered targets; the rest stays moto's.
            if target_group.target_type != "ip" or status.status != "healthy":
                return status
            return balancers._describe_health(target_group, status)

        ELBv2Backend.create_load_balancer = create_load_balancer
        FakeTargetGroup.health_for = health_for

    def _address_of(self, account_id: str, region: str, arn: str) -> str:
        key = (account_id, region, arn)
        if key not in self._addresses:
            self._addresses[key] = self._runtimes.ip_pool.allocate(load_balancer=True)
        return self._addresses[key]

    def _health_source(self, key: TargetKey) -> str:
        """The address a target's health checks come from (the caller holds the lock).

        On AWS the load balancer's nodes check their targets, so the task's access
        log shows the same address for checks as for forwarded requests: here the
        first routing load balancer that sends to the group. A group that none sends
        to (an internal ALB's, a network load balancer's) is checked from an address
        of the health checker's own, also one the responders know as a load
        balancer's, so a check is never judged by a security group.
        """
        backend = elbv2_backend(key.account_id, key.region)
        target_group = backend.target_groups.get(key.target_group_arn) if backend is not None else None
        for arn in getattr(target_group, "load_balancer_arns", None) or []:
            address = self._addresses.get((key.account_id, key.region, arn))
            if address is not None:
                return address
        if self._checker_address is None:
            self._checker_address = self._runtimes.ip_pool.allocate(load_balancer=True)
        return self._checker_address

    def _describe_health(self, target_group: Any, status: Any) -> Any:
        port = int(status.port)
        key = TargetKey(
            target_group.account_id, target_group.region_name, target_group.arn, status.instance_id, port
        )
        backend = elbv2_backend(target_group.account_id, target_group.region_name)
        state, reason, description = self._target_state(backend, target_group, key)
        health_port = status.health_check_port
        if health_port in (None, "traffic-port"):
            health_port = str(port)  # AWS names the port it checks
        return FakeHealthStatus(status.instance_id, status.port, health_port, state, reason, description)

    def _target_state(
        self, backend: Any, target_group: Any, key: TargetKey
    ) -> tuple[str, str | None, str | None]:
        if not target_group.health_check_enabled:
            return "unavailable", "Target.HealthCheckDisabled", "Health checks are disabled"
        if backend is None or not backend._any_listener_using(target_group.arn):
            return (
                "unused",
                "Target.NotInUse",
                "Target group is not configured to receive traffic from the load balancer",
            )
        result = self._health.get(key)
        if result is None:
            return "initial", "Elb.RegistrationInProgress", "Target registration is in progress"
        return result.state, result.reason, result.description

    # ----- ECS tasks as targets -----------------------------------------------------

    def register_task(self, task: Any, service: Any) -> list[str]:
        """Register a running service task in its target groups; returns their ARNs.

        Each target is health-checked right away (the caller holds the lock; the
        responder only needs it after answering), so a healthy task is routed to
        at once and a rolling deployment never leaves the listener without targets.
        """
        private_ip = task_private_ip(task)
        if not private_ip or not service.load_balancers:
            return []
        backend = elbv2_backend(task._account_id, task.region_name)
        if backend is None:
            return []
        keys = []
        for entry in service.load_balancers:
            target_group = backend.target_groups.get(entry.get("targetGroupArn") or "")
            port = entry.get("containerPort")
            if target_group is None or target_group.target_type != "ip" or not port:
                continue  # CreateService refused these; the group may be gone since
            target_group.register([{"Id": private_ip, "Port": int(port)}])
            key = TargetKey(task._account_id, task.region_name, target_group.arn, private_ip, int(port))
            self._health[key] = self._check(key, health_check_of(target_group), self._health_source(key))
            keys.append(key)
        self._registrations[id(task)] = keys
        return [key.target_group_arn for key in keys]

    def deregister_task(self, task: Any) -> list[str]:
        """Deregister a stopping task's targets; returns the target groups' ARNs.

        AWS drains them first (deregistration delay, 300 s by default); here they
        go at once. Other registrations of the same IP (made through the API) are
        checked again at once, and find nothing answering.
        """
        keys = self._registrations.pop(id(task), [])
        for key in keys:
            backend = elbv2_backend(key.account_id, key.region)
            target_group = backend.target_groups.get(key.target_group_arn) if backend else None
            if target_group is not None and key.target_id in target_group.targets:
                target_group.deregister([{"Id": key.target_id, "Port": key.port}])
        private_ip = task_private_ip(task)
        for key in list(self._health):
            if (key.account_id, key.region, key.target_id) == (task._account_id, task.region_name, private_ip):
                del self._health[key]
        return [key.target_group_arn for key in keys]

    def forget(self, task: Any) -> None:
        """Drop what is known of a task moto no longer knows (after a moto reset)."""
        for key in self._registrations.pop(id(task), []):
            self._health.pop(key, None)

    def task_ready(self, task: Any) -> bool:
        """Whether every target of the task passes its health checks (or is not
        checked: health checks disabled, group not behind a load balancer)."""
        for key in self._registrations.get(id(task), []):
            backend = elbv2_backend(key.account_id, key.region)
            target_group = backend.target_groups.get(key.target_group_arn) if backend else None
            if target_group is None:
                continue
            state, _, _ = self._target_state(backend, target_group, key)
            if state in ("initial", "unhealthy"):
                return False
        return True

    def _check(self, key: TargetKey, check: HealthCheck, source: str) -> HealthResult:
        address = self._runtimes.responder_address(key.account_id, key.region, key.target_id)
        return check_target(address, key.target_id, key.port, check, source)

    # ----- listeners ----------------------------------------------------------------

    def sync_all(self) -> None:
        self._sync(all_elbv2_backends(), scope=None)

    def sync_region(self, account_id: str, region: str) -> None:
        backend = elbv2_backend(account_id, region)
        self._sync([backend] if backend is not None else [], scope=(account_id, region))

    def _sync(self, backends: Iterable[Any], scope: tuple[str, str] | None) -> None:
        """Open a proxy for each HTTP listener of a routing ALB, close the rest.

        `scope` limits the closing to one account and region (after an API call
        there); None covers everything (the background pass, which also notices a
        moto reset).
        """
        wanted: dict[tuple[str, str, str], tuple[str, int]] = {}
        live_balancers: set[tuple[str, str, str]] = set()
        for backend in backends:
            account_id, region = backend.account_id, backend.region_name
            link_target_groups(backend)
            for load_balancer in list(backend.load_balancers.values()):
                if not routes_traffic(load_balancer):
                    continue
                live_balancers.add((account_id, region, load_balancer.arn))
                address = self._address_of(account_id, region, load_balancer.arn)
                if load_balancer.dns_name != address:
                    load_balancer.dns_name = address
                for listener in list(load_balancer.listeners.values()):
                    if listener.protocol == "HTTP":
                        wanted[(account_id, region, listener.arn)] = (address, int(listener.port))

        def in_scope(key: tuple[str, str, str]) -> bool:
            return scope is None or key[:2] == scope

        stale = [
            key
            for key, proxy in self._proxies.items()
            if in_scope(key) and wanted.get(key) != (proxy.address, proxy.port)
        ]
        close_proxies([self._proxies.pop(key) for key in stale])
        for key in stale:
            self._next_target.pop(key, None)
        for key, (address, port) in wanted.items():
            if key in self._proxies:
                continue
            try:
                proxy = ListenerProxy(self, key, address, port)
            except OSError as error:
                if key not in self._bind_failures:  # say it once, retry quietly
                    self._bind_failures.add(key)
                    print(f"emulator: cannot listen on {address}:{port}: {error}", file=sys.stderr)
                continue
            self._bind_failures.discard(key)
            self._proxies[key] = proxy
            proxy.start()
        for key in [k for k in self._addresses if in_scope(k) and k not in live_balancers]:
            self._runtimes.ip_pool.release(self._addresses.pop(key))

    def admit_client(self, listener_key: tuple[str, str, str], peer: str) -> str | None:
        """Judge a client's connection to a listener (in the connection's thread).

        Without the account's `client_address`: served as today, as `peer`. With
        it: the client comes from that address, and is admitted (and forwarded as
        that address) only if the load balancer's security groups, as they are now,
        let it reach the listener's port; else None, and the connection is dropped.
        The lock is held for the lookup only.
        """
        account_id, region, listener_arn = listener_key
        client = SETTINGS.client_address(account_id)
        if client is None:
            return peer
        with self._lock:
            backend = elbv2_backend(account_id, region)
            for load_balancer in list(backend.load_balancers.values()) if backend is not None else []:
                listener = load_balancer.listeners.get(listener_arn)
                if listener is None:
                    continue
                groups = security_groups_by_id(
                    account_id, region, load_balancer.security_groups or [], load_balancer.vpc_id
                )
                return client if ingress_admits(groups, int(listener.port), client) else None
        return None  # the listener is gone: nothing is there to admit the client

    def route(self, listener_key: tuple[str, str, str]) -> Route:
        """Where the next request to a listener goes (takes the lock)."""
        with self._lock:
            account_id, region, listener_arn = listener_key
            backend = elbv2_backend(account_id, region)
            listener = find_listener(backend, listener_arn) if backend is not None else None
            if listener is None:
                return Route(status=503, reason="Service Temporarily Unavailable")
            actions = sorted(listener.default_actions, key=lambda a: int(a.data.get("Order") or 0))
            action = actions[0] if actions else None
            if action is not None and action.type == "fixed-response":
                return fixed_response(action.data.get("FixedResponseConfig") or {})
            if action is not None and action.type == "redirect":
                return redirect(action.data.get("RedirectConfig") or {})
            if action is None or action.type != "forward":
                return Route(status=503, reason="Service Temporarily Unavailable")
            healthy, failing = [], []
            for arn in target_group_arns(action):
                target_group = backend.target_groups.get(arn)
                if target_group is None:
                    continue
                for target in list(target_group.targets.values()):
                    key = TargetKey(account_id, region, arn, target["Id"], int(target["Port"]))
                    state, _, _ = self._target_state(backend, target_group, key)
                    if state in ("healthy", "unavailable"):  # unavailable: not checked
                        healthy.append(key)
                    elif state == "unhealthy":
                        failing.append(key)
            # ALB fails open: with no healthy target it routes to all unhealthy ones.
            candidates = healthy or failing
            if not candidates:
                return Route(status=503, reason="Service Temporarily Unavailable")
            turn = self._next_target.get(listener_key, 0)
            self._next_target[listener_key] = turn + 1
            key = candidates[turn % len(candidates)]
            address = self._runtimes.responder_address(account_id, region, key.target_id)
            return Route(address=address, port=key.port, target=f"{key.target_id}:{key.port}")

    # ----- health checks in the background ------------------------------------------

    def start_background(self) -> None:
        self._thread = threading.Thread(target=self._check_periodically, name="elb-health", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            close_proxies(list(self._proxies.values()))
            self._proxies.clear()

    def _check_periodically(self) -> None:
        while not self._stopping.wait(HEALTH_LOOP_INTERVAL):
            try:
                with self._lock:
                    due = [(key, check, self._health_source(key)) for key, check in self._due_checks()]
                # The checks themselves run without the lock: a responder takes it to
                # write its access-log line.
                results = [(key, self._check(key, check, source)) for key, check, source in due]
                with self._lock:
                    for key, result in results:
                        self._health[key] = result
            except Exception:
                error = traceback.format_exc()
                if error != self._last_error:
                    self._last_error = error
                    print(f"emulator: health checker error:\n{error}", file=sys.stderr, flush=True)

    def _due_checks(self) -> list[tuple[TargetKey, HealthCheck]]:
        """Targets never checked, checked with other settings, or due by interval;
        forgets the results of targets no longer registered."""
        now = time.monotonic()
        due = []
        registered: set[TargetKey] = set()
        for backend in all_elbv2_backends():
            for target_group in list(backend.target_groups.values()):
                if target_group.target_type != "ip" or not target_group.health_check_enabled:
                    continue
                check = health_check_of(target_group)
                for target in list(target_group.targets.values()):
                    key = TargetKey(
                        backend.account_id, backend.region_name, target_group.arn, target["Id"], int(target["Port"])
                    )
                    registered.add(key)
                    result = self._health.get(key)
                    if result is None or result.check != check or now - result.checked_at >= check.interval:
                        due.append((key, check))
        for key in [k for k in self._health if k not in registered]:
            del self._health[key]
        return due


def service_load_balancer_error(
    account_id: str, region: str, load_balancers: list[dict[str, Any]], task_definition: Any
) -> str | None:
    """Why CreateService/UpdateService refuses these `loadBalancers`, as AWS words it."""
    backend = elbv2_backend(account_id, region)
    for entry in load_balancers:
        arn = entry.get("targetGroupArn")
        if not arn:
            continue  # a Classic Load Balancer by name: not emulated
        target_group = backend.target_groups.get(arn) if backend is not None else None
        if target_group is None:
            # AWS's answer when it cannot describe the target group.
            return (
                "Unable to assume role and validate the specified targetGroupArn. Please verify "
                "that the ECS service role being passed has the proper permissions."
            )
        if not backend._any_listener_using(arn):
            return f"The target group with targetGroupArn {arn} does not have an associated load balancer."
        if task_definition.network_mode == "awsvpc" and target_group.target_type != "ip":
            return (
                f"The provided target group {arn} has target type {target_group.target_type}, which is "
                "incompatible with the awsvpc network mode specified in the task definition."
            )
        name, port = entry.get("containerName"), entry.get("containerPort")
        ports = [
            int(mapping.get("containerPort") or 0)
            for container in task_definition.container_definitions
            if container.get("name") == name
            for mapping in container.get("portMappings") or []
        ]
        if port is None or int(port) not in ports:
            return f"The container {name} did not have a container port {port} defined."
    return None


def find_listener(backend: Any, listener_arn: str) -> Any | None:
    for load_balancer in list(backend.load_balancers.values()):
        listener = load_balancer.listeners.get(listener_arn)
        if listener is not None:
            return listener
    return None


def link_target_groups(backend: Any) -> None:
    """Keep each target group's LoadBalancerArns to the load balancers that send to it.

    moto adds an ARN at CreateListener and never removes it, so a target group
    would still name a deleted load balancer.
    """
    linked: dict[str, list[str]] = {}
    for load_balancer in list(backend.load_balancers.values()):
        for listener in list(load_balancer.listeners.values()):
            for rule in list(listener.rules.values()):
                for action in rule.actions:
                    for arn in target_group_arns(action):
                        arns = linked.setdefault(arn, [])
                        if load_balancer.arn not in arns:
                            arns.append(load_balancer.arn)
    for target_group in list(backend.target_groups.values()):
        target_group.load_balancer_arns = linked.get(target_group.arn, [])


def fixed_response(config: dict[str, Any]) -> Route:
    status = int(config.get("StatusCode") or 200)
    return Route(
        status=status,
        reason=http.client.responses.get(status, ""),
        body=(config.get("MessageBody") or "").encode(),
        content_type=config.get("ContentType") or "text/plain",
    )


def redirect(config: dict[str, Any]) -> Route:
    """A redirect action's Location, with `#{host}`-style placeholders left to the proxy."""
    status = 301 if config.get("StatusCode") == "HTTP_301" else 302
    protocol = (config.get("Protocol") or "#{protocol}").lower()
    location = (
        f"{protocol}://{config.get('Host') or '#{host}'}:{config.get('Port') or '#{port}'}"
        f"{config.get('Path') or '/#{path}'}?{config.get('Query') or '#{query}'}"
    )
    return Route(status=status, reason=http.client.responses[status], location=location)


def close_proxies(proxies: list[ListenerProxy]) -> None:
    """Close several proxies in parallel (each waits for its serving loop's poll)."""
    closers = [threading.Thread(target=p.stop, daemon=True) for p in proxies]
    for closer in closers:
        closer.start()
    for closer in closers:
        closer.join()


# ----- the proxy ---------------------------------------------------------------------


class _ProxyHandler(BaseHTTPRequestHandler):
    # One request per connection (`Connection: close`): nothing idles on a
    # listener once it is deleted.
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def do_GET(self) -> None:
        self._forward()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _forward(self) -> None:
        body = self._request_body()
        route = self.server.balancers.route(self.server.listener_key)
        if route.status:
            self._answer_alone(route)
            return
        if route.address is None:
            # A registered IP that no running task holds.
            self._answer_alone(Route(status=502, reason="Bad Gateway"))
            return
        try:
            status, reason, headers, payload = self._exchange(route, body)
        except TimeoutError:
            self._answer_alone(Route(status=504, reason="Gateway Time-out"))
            return
        except (OSError, http.client.HTTPException):
            self._answer_alone(Route(status=502, reason="Bad Gateway"))
            return
        self.send_response_only(status, reason)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        # Which target answered, so tests can see the round robin (AWS sends no such header).
        self.send_header("X-Emulator-Target", route.target)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _request_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _exchange(self, route: Route, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Send the request to the target as the ALB does, from the ALB's address."""
        assert route.address is not None
        connection = http.client.HTTPConnection(
            route.address,
            route.port,
            timeout=PROXY_TIMEOUT,
            source_address=(self.server.address, 0),
        )
        try:
            connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP and not name.lower().startswith("x-forwarded-"):
                    connection.putheader(name, value)
            forwarded_for = self.headers.get("X-Forwarded-For")
            # The account's client address when it sets one (see admit_client).
            client = self.client_address[0]
            connection.putheader("X-Forwarded-For", f"{forwarded_for}, {client}" if forwarded_for else client)
            connection.putheader("X-Forwarded-Proto", "http")
            connection.putheader("X-Forwarded-Port", str(self.server.port))
            if not self.headers.get("X-Amzn-Trace-Id"):
                connection.putheader("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}")
            if body or self.command in ("POST", "PUT", "PATCH"):
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body or None)
            response = connection.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            connection.close()

    def _answer_alone(self, route: Route) -> None:
        body = route.body
        if not body and route.location is None and route.status >= 400:
            body = alb_page(route.status, route.reason)
        self.send_response_only(route.status, route.reason)
        self.send_header("Server", "awselb/2.0")
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(body)))
        if route.location is not None:
            self.send_header("Location", self._expand(route.location))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD":
            self.wfile.write(body)

    def _expand(self, location: str) -> str:
        path, _, query = self.path.partition("?")
        host = (self.headers.get("Host") or self.server.address).split(":")[0]
        expanded = (
            location.replace("#{protocol}", "http")
            .replace("#{host}", host)
            .replace("#{port}", str(self.server.port))
            .replace("#{path}", path.lstrip("/"))
            .replace("#{query}", query)
        )
        return expanded.rstrip("?")

    def log_message(self, format: str, *args: object) -> None:
        pass  # an ALB's access log is off by default


class _ProxyServer(GatedHTTPServer):
    def __init__(self, balancers: LoadBalancers, listener_key: tuple[str, str, str], address: str, port: int):
        self.balancers = balancers
        self.listener_key = listener_key
        self.address = address
        self.port = port
        super().__init__((address, port), _ProxyHandler)

    def admit(self, peer: str) -> str | None:
        return self.balancers.admit_client(self.listener_key, peer)


class ListenerProxy:
    """One listener's reverse proxy on its load balancer's loopback address."""

    def __init__(self, balancers: LoadBalancers, listener_key: tuple[str, str, str], address: str, port: int):
        self.address = address
        self.port = port
        self._server = _ProxyServer(balancers, listener_key, address, port)  # binds now; raises OSError
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"alb {address}:{port}",
            daemon=True,
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket; new connections are refused from then on."""
        self._server.shutdown()
        self._server.server_close()


"""What it means for an emulated Fargate task to run, fail to start, and stop.

moto only records a task. Here a task is brought to life the way Fargate would:
its ENI is tidied to look like a Fargate ENI, it gets a public IP on the loopback
range when its network configuration asks for one, an nginx-like responder listens
on that IP, and its awslogs stream receives start-up and access-log lines. Stopping
a task undoes all of that and deletes the ENI, as AWS does: at once, or after the
account's `eni_release_seconds` (AWS takes about a minute to release it).

An awsvpc task without a public IP still gets a responder, on an internal loopback
address that no API shows: the emulated load balancers reach a task by its private
IP, and `responder_address` maps that private IP to where the responder listens.

When the task's account sets `client_address`, each connection to a responder
from anywhere but a load balancer is judged against the ENI's security groups
(`TaskRuntimes._gate`, security_groups.py).

Every function here expects the caller to hold the emulator's backend lock,
except the responders' gates, which run in the responders' threads.
"""

from __future__ import annotations

import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.ec2.utils import generate_dns_from_ip, random_private_ip
from moto.logs.models import logs_backends

from account_settings import SETTINGS
from nginx_responder import NginxResponder, stop_responders
from security_groups import ConnectionGate, ingress_admits

# Images whose reference contains this marker can never be pulled: the trap the
# grader's tests use for "the service never becomes stable".
BROKEN_IMAGE_MARKER = "does-not-exist"

# Fargate reports the platform version it resolved LATEST to.
FARGATE_PLATFORM_VERSION = "1.4.0"


def broken_image(task_definition: Any) -> str | None:
    """The first container image of the task definition that cannot be pulled."""
    for container in task_definition.container_definitions:
        image = container.get("image") or ""
        if BROKEN_IMAGE_MARKER in image:
            return image
    return None


def pull_failure_reason(image: str) -> str:
    return (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
        f"failed to resolve ref {image}: not found"
    )


class PublicIpPool:
    """Hands out unique addresses 127.0.X.Y (X, Y in 1..254) for task public IPs.

    The internal addresses of private tasks and the load balancers' addresses
    come from the same pool, so no two of them ever coincide.

    Addresses are drawn at random so that several emulators on one machine rarely
    pick the same one; a caller that fails to bind an address tries another.

    The pool also knows which addresses load balancers send from, so a responder
    can tell load-balancer traffic (never filtered) from a direct client.
    """

    def __init__(self) -> None:
        self._in_use: set[str] = set()
        # Read by the responders' connection threads without the backend lock (a
        # health check connects while the scheduler holds it), hence a lock of its own.
        self._sources_lock = threading.Lock()
        self._load_balancer_sources: set[str] = set()

    def allocate(self, load_balancer: bool = False) -> str:
        """A fresh address; `load_balancer`: one a load balancer sends from."""
        for _ in range(1000):
            ip = f"127.0.{random.randint(1, 254)}.{random.randint(1, 254)}"
            if ip not in self._in_use:
                self._in_use.add(ip)
                if load_balancer:
                    with self._sources_lock:
                        self._load_balancer_sources.add(ip)
                return ip
        raise RuntimeError("no free loopback address for a task public IP")

    def release(self, ip: str) -> None:
        self._in_use.discard(ip)
        with self._sources_lock:
            self._load_balancer_sources.discard(ip)

    def is_load_balancer(self, ip: str) -> bool:
        """Whether a connection from `ip` is an emulated load balancer's (safe without
        the backend lock)."""
        with self._sources_lock:
            return ip in self._load_balancer_sources


@dataclass
class AwsLogsStream:
    """The CloudWatch Logs stream an awslogs-configured container writes to."""

    account_id: str
    region: str
    group: str
    stream: str

    def write(self, messages: list[str]) -> None:
        """Append events now; silently nothing if the group or stream is gone."""
        backend = logs_backends[self.account_id][self.region]
        group = backend.groups.get(self.group)
        if group is None or self.stream not in group.streams:
            return
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": message} for message in messages]
        backend.put_log_events(self.group, self.stream, events)


@dataclass
class TaskRuntime:
    """Everything the emulator started for one running task."""

    task: Any
    account_id: str
    region: str
    public_ip: str | None = None
    # Where the responder of a task without a public IP listens; shown by no API.
    internal_ip: str | None = None
    private_ip: str | None = None
    responders: list[NginxResponder] = field(default_factory=list)
    logs: list[AwsLogsStream] = field(default_factory=list)


@dataclass
class PendingEniRelease:
    """The ENI of a stopped task that lingers until `due` (time.monotonic())."""

    task: Any
    public_ip: str | None
    due: float


class TaskRuntimes:
    """Starts and stops the runtime of tasks; owns the public IP pool."""

    def __init__(self, lock: threading.RLock):
        self._lock = lock
        self._ips = PublicIpPool()
        self._by_task: dict[int, TaskRuntime] = {}
        # (account, region, private IP) -> the running task's runtime.
        self._by_private_ip: dict[tuple[str, str, str], TaskRuntime] = {}
        self._pending_releases: list[PendingEniRelease] = []

    @property
    def ip_pool(self) -> PublicIpPool:
        """The loopback address pool, shared with the load balancers."""
        return self._ips

    def responder_address(self, account_id: str, region: str, private_ip: str) -> str | None:
        """The loopback address the responder of the running task with this private IP
        listens on (its public IP, or else its internal address), or None."""
        runtime = self._by_private_ip.get((account_id, region, private_ip))
        if runtime is None:
            return None
        return runtime.public_ip or runtime.internal_ip

    def has_runtime(self, task: Any) -> bool:
        return id(task) in self._by_task

    def tasks_with_runtime(self) -> list[Any]:
        return [runtime.task for runtime in self._by_task.values()]

    def start(self, task: Any, task_definition: Any, backend: Any) -> None:
        """Bring a freshly launched task to RUNNING, or to STOPPED if it cannot start."""
        tidy_task_eni(task)
        image = broken_image(task_definition)
        if image:
            fail_task_start(task, task_definition, image)
            self._release_eni(task, None)
            return
        mark_task_running(task, task_definition)
        runtime = TaskRuntime(task, backend.account_id, backend.region_name)
        self._by_task[id(task)] = runtime
        if wants_public_ip(task):
            self._give_public_ip(runtime, task_definition)
        elif eni_attachment(task) is not None:
            # No public IP: the responder still runs, for load balancers to reach.
            runtime.internal_ip = self._bind_responders(runtime, task_definition)
        runtime.private_ip = task_private_ip(task)
        if runtime.private_ip:
            self._by_private_ip[(runtime.account_id, runtime.region, runtime.private_ip)] = runtime
        runtime.logs = open_awslogs_streams(task, task_definition)
        for stream in runtime.logs:
            stream.write(nginx_startup_lines())

    def stop(self, task: Any) -> None:
        """Release what a stopped task held: responder, public IP, ENI.

        The responder closes at once (nginx has exited); the ENI and the public IP
        on it go now or after the account's `eni_release_seconds`.
        """
        runtime = self._by_task.pop(id(task), None)
        public_ip = None
        if runtime is not None:
            self._drop_runtime(runtime)
            public_ip = runtime.public_ip
            for stream in runtime.logs:
                stream.write(nginx_shutdown_lines())
        self._release_eni(task, public_ip)

    def _release_eni(self, task: Any, public_ip: str | None) -> None:
        """Delete the task's ENI and free its public IP, now or when the account says.

        A lingering ENI stays described as it was (status in-use, public IP) and
        keeps its security groups busy, so DeleteSecurityGroup answers
        DependencyViolation until it goes, as on AWS. The IP stays reserved so no
        new task shows the same address meanwhile.
        """
        delay = SETTINGS.eni_release_seconds(task._account_id)
        if delay > 0 and task_eni(task) is not None:
            self._pending_releases.append(
                PendingEniRelease(task, public_ip, time.monotonic() + delay)
            )
            return
        if public_ip:
            self._ips.release(public_ip)
        delete_task_eni(task)

    def release_due_enis(self) -> None:
        """Delete the lingering ENIs whose time has come (called often, under the lock)."""
        if not self._pending_releases:
            return
        now = time.monotonic()
        due = [p for p in self._pending_releases if p.due <= now]
        self._pending_releases = [p for p in self._pending_releases if p.due > now]
        for pending in due:
            # After a /moto-api/reset the ENI (or its whole account) is gone already.
            delete_task_eni(pending.task)
            if pending.public_ip:
                self._ips.release(pending.public_ip)

    def forget(self, task: Any) -> None:
        """Drop the runtime of a task moto no longer knows (after a moto reset)."""
        runtime = self._by_task.pop(id(task), None)
        if runtime is not None:
            self._drop_runtime(runtime)
            if runtime.public_ip:
                self._ips.release(runtime.public_ip)

    def _drop_runtime(self, runtime: TaskRuntime) -> None:
        """Close the responders; the internal address goes at once (no ENI holds it)."""
        stop_responders(runtime.responders)
        key = (runtime.account_id, runtime.region, runtime.private_ip or "")
        if self._by_private_ip.get(key) is runtime:
            del self._by_private_ip[key]
        if runtime.internal_ip:
            self._ips.release(runtime.internal_ip)

    def stop_all(self) -> None:
        for task in self.tasks_with_runtime():
            self.forget(task)
        self._pending_releases = []

    def _give_public_ip(self, runtime: TaskRuntime, task_definition: Any) -> None:
        ip = self._bind_responders(runtime, task_definition)
        if ip is None:
            return
        runtime.public_ip = ip
        eni = task_eni(runtime.task)
        if eni is not None:
            eni.public_ip = ip

    def _bind_responders(self, runtime: TaskRuntime, task_definition: Any) -> str | None:
        """Start the task's responders on a fresh loopback address; returns it."""
        ports = container_ports(task_definition)
        for _ in range(20):
            ip = self._ips.allocate()
            try:
                responders = []
                for port in ports:
                    responders.append(
                        NginxResponder(ip, port, self._access_log_sink(runtime), self._gate(runtime, port))
                    )
            except OSError as error:
                # Another process (often another emulator) holds this address.
                print(f"emulator: cannot bind {ip}: {error}", file=sys.stderr)
                for responder in responders:
                    responder.close()
                continue  # the address stays reserved: something else holds it
            runtime.responders = responders
            for responder in runtime.responders:
                responder.start()
            return ip
        print("emulator: gave up finding a bindable loopback address", file=sys.stderr)
        return None

    def _gate(self, runtime: TaskRuntime, port: int) -> ConnectionGate:
        """Judge each connection to the task's responder on `port` (in its own thread).

        Without the account's `client_address` every connection is served as today.
        With it, load-balancer traffic (from an address the pool gave a load
        balancer) is served as is: the tasks' rule that admits the load balancer's
        group is not checked. Any other connection is a direct client from
        `client_address`, judged against the ENI's security groups as they are now
        (rules change while a task runs).

        The load-balancer test comes before the backend lock: a health check may
        connect while the scheduler holds the lock and waits for the answer.
        """

        def admit(peer: str) -> str | None:
            client = SETTINGS.client_address(runtime.account_id)
            if client is None or self._ips.is_load_balancer(peer):
                return peer
            with self._lock:
                eni = task_eni(runtime.task)
                admitted = eni is not None and ingress_admits(list(eni.group_set), port, client)
            return client if admitted else None

        return admit

    def _access_log_sink(self, runtime: TaskRuntime) -> Callable[[str], None]:
        def sink(line: str) -> None:
            with self._lock:
                for stream in runtime.logs:
                    stream.write([line])

        return sink


def wants_public_ip(task: Any) -> bool:
    config = (getattr(task, "network_configuration", None) or {}).get("awsvpcConfiguration") or {}
    return config.get("assignPublicIp") == "ENABLED"


def container_ports(task_definition: Any) -> list[int]:
    """The TCP container ports of all containers, in definition order."""
    ports: list[int] = []
    for container in task_definition.container_definitions:
        for mapping in container.get("portMappings") or []:
            port = mapping.get("containerPort")
            protocol = (mapping.get("protocol") or "tcp").lower()
            if port and protocol == "tcp" and int(port) not in ports:
                ports.append(int(port))
    return ports


def eni_attachment(task: Any) -> dict[str, Any] | None:
    for attachment in task.attachments:
        if attachment.get("type") == "ElasticNetworkInterface":
            return attachment
    return None


def attachment_detail(attachment: dict[str, Any], name: str) -> str | None:
    for detail in attachment.get("details", []):
        if detail.get("name") == name:
            return detail.get("value")
    return None


def task_private_ip(task: Any) -> str | None:
    attachment = eni_attachment(task)
    return attachment_detail(attachment, "privateIPv4Address") if attachment else None


def task_eni(task: Any) -> Any | None:
    attachment = eni_attachment(task)
    if attachment is None:
        return None
    eni_id = attachment_detail(attachment, "networkInterfaceId")
    # dict.get, not []: after a /moto-api/reset, [] would create a fresh account.
    regions = dict.get(ec2_backends, task._account_id)
    backend = dict.get(regions, task.region_name) if regions is not None else None
    return backend.enis.get(eni_id) if backend is not None else None


def tidy_task_eni(task: Any) -> None:
    """Make moto's task ENI look like the one Fargate creates.

    moto gives the ENI a random 10.x address whatever the subnet; Fargate takes an
    address from the subnet, describes the ENI by its ECS attachment and marks it
    requester-managed.
    """
    attachment = eni_attachment(task)
    eni = task_eni(task)
    if attachment is None or eni is None:
        return
    ip = unused_private_ip(task, eni.subnet.cidr_block)
    dns_name = generate_dns_from_ip(ip)
    eni.private_ip_address = ip
    eni.private_dns_name = dns_name
    eni.private_ip_addresses = [
        {"Primary": True, "PrivateIpAddress": ip, "PrivateDnsName": dns_name}
    ]
    eni.description = (
        f"arn:aws:ecs:{task.region_name}:{task._account_id}:attachment/{attachment['id']}"
    )
    eni.requester_managed = True
    for detail in attachment["details"]:
        if detail["name"] == "privateIPv4Address":
            detail["value"] = ip
        elif detail["name"] == "privateDnsName":
            detail["value"] = dns_name
    attachment["status"] = "ATTACHED"


def unused_private_ip(task: Any, cidr_block: str) -> str:
    """An address of the subnet that no other ENI of the account and region holds.

    moto draws at random and may repeat one; a load balancer finds its targets by
    private IP, so two tasks must never share one.
    """
    backend = ec2_backends[task._account_id][task.region_name]
    taken = {getattr(eni, "private_ip_address", None) for eni in list(backend.enis.values())}
    for _ in range(100):
        ip = random_private_ip(cidr_block)
        if ip not in taken:
            return ip
    return ip


def delete_task_eni(task: Any) -> None:
    """Delete the task's ENI, as Fargate does once the task has stopped."""
    attachment = eni_attachment(task)
    if attachment is None:
        return
    eni = task_eni(task)
    if eni is not None:
        ec2_backends[task._account_id][task.region_name].delete_network_interface(eni.id)
    attachment["status"] = "DELETED"


def mark_task_running(task: Any, task_definition: Any) -> None:
    now = utcnow()
    attachment = eni_attachment(task)
    eni_ip = attachment_detail(attachment, "privateIPv4Address") if attachment else None
    describe_as_fargate_task(task, task_definition)
    task.last_status = "RUNNING"
    task.desired_status = "RUNNING"
    task.stopped_reason = None  # moto's "" would show up as an empty stoppedReason
    task.pull_started_at = now
    task.pull_stopped_at = now
    task.started_at = now
    for container in task.containers:
        container.last_status = "RUNNING"
        container.exitCode = None  # a running container has no exit code yet
        container.runtime_id = f"{task.id}-{uuid.uuid4().int % 10**10}"
        if attachment is not None:
            container.network_interfaces = [
                {"attachmentId": attachment["id"], "privateIpv4Address": eni_ip}
            ]


def fail_task_start(task: Any, task_definition: Any, image: str) -> None:
    """A task whose image cannot be pulled stops before it ever runs."""
    now = utcnow()
    reason = pull_failure_reason(image)
    describe_as_fargate_task(task, task_definition)
    task.last_status = "STOPPED"
    task.desired_status = "STOPPED"
    task.stop_code = "TaskFailedToStart"
    task.stopped_reason = reason
    task.pull_started_at = now
    task.stopping_at = now
    task.stopped_at = now
    task.execution_stopped_at = now
    for container in task.containers:
        container.last_status = "STOPPED"
        container.reason = reason
        container.exitCode = None


def mark_task_stopped(task: Any, reason: str, stop_code: str) -> None:
    now = utcnow()
    task.last_status = "STOPPED"
    task.desired_status = "STOPPED"
    if not getattr(task, "stop_code", None):
        task.stop_code = stop_code
    if not task.stopped_reason:
        task.stopped_reason = reason
    task.stopping_at = getattr(task, "stopping_at", None) or now
    task.stopped_at = getattr(task, "stopped_at", None) or now
    task.execution_stopped_at = getattr(task, "execution_stopped_at", None) or now
    for container in task.containers:
        if container.last_status == "RUNNING":
            container.exitCode = 0  # nginx exits cleanly on SIGTERM
        container.last_status = "STOPPED"


def describe_as_fargate_task(task: Any, task_definition: Any | None) -> None:
    """Fill in the fields DescribeTasks shows for a Fargate task and moto leaves out."""
    now = utcnow()
    task.created_at = getattr(task, "created_at", None) or now
    task.connectivity = "CONNECTED"
    task.connectivity_at = now
    task.platform_version = FARGATE_PLATFORM_VERSION
    task.platform_family = "Linux"
    task.health_status = "UNKNOWN"
    task.enable_execute_command = False
    task.version = 1
    eni = task_eni(task)
    if eni is not None:
        task.availability_zone = eni.subnet.availability_zone
    if task_definition is not None:
        task.cpu = task_definition.cpu
        task.memory = task_definition.memory
    for container in task.containers:
        container.health_status = "UNKNOWN"
        # moto puts the task definition's ARN where the task's belongs.
        container.task_arn = task.task_arn
        container.container_arn = (
            f"arn:aws:ecs:{task.region_name}:{task._account_id}:container/"
            f"{task.cluster_name}/{task.id}/{uuid.uuid4()}"
        )


def open_awslogs_streams(task: Any, task_definition: Any) -> list[AwsLogsStream]:
    """Create the awslogs stream of each container that logs to an existing group.

    On AWS a missing group makes the task fail (unless awslogs-create-group is set);
    the emulator just skips the stream, so tests of other things stay simple.
    """
    streams = []
    task_id = task.task_arn.split("/")[-1]
    for container in task_definition.container_definitions:
        config = container.get("logConfiguration") or {}
        if config.get("logDriver") != "awslogs":
            continue
        options = config.get("options") or {}
        group = options.get("awslogs-group")
        if not group:
            continue
        region = options.get("awslogs-region") or task.region_name
        backend = logs_backends[task._account_id][region]
        if group not in backend.groups:
            if str(options.get("awslogs-create-group", "")).lower() != "true":
                continue
            backend.create_log_group(group, {})
        prefix = options.get("awslogs-stream-prefix")
        name = f"{prefix}/{container.get('name')}/{task_id}" if prefix else task_id
        backend.ensure_log_stream(group, name)
        streams.append(AwsLogsStream(task._account_id, region, group, name))
    return streams


def nginx_startup_lines() -> list[str]:
    stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime())
    return [
        "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
        "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
        "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
        "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
        "/docker-entrypoint.sh: Configuration complete; ready for start up",
        f'{stamp} [notice] 1#1: using the "epoll" event method',
        f"{stamp} [notice] 1#1: nginx/1.28.0",
        f"{stamp} [notice] 1#1: start worker processes",
    ]


def nginx_shutdown_lines() -> list[str]:
    stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime())
    return [
        f"{stamp} [notice] 1#1: signal 15 (SIGTERM) received, exiting",
        f"{stamp} [notice] 1#1: exit",
    ]

"""The ECS service scheduler that moto leaves out.

moto records services but never starts their tasks, so `runningCount` stays 0 and
`aws ecs wait services-stable` never succeeds. `EcsScheduler.reconcile_*` does what
the ECS service scheduler does for Fargate services, in every account and region
moto knows:

* each ACTIVE service in an ACTIVE cluster keeps `desiredCount` tasks RUNNING, in
  group `service:NAME`, started by the service's deployment id;
* tasks beyond the desired count, tasks of a deleted service or cluster, and tasks
  of an outdated deployment are stopped;
* tasks whose image cannot be pulled stop at once, and a replacement is launched
  at most every `FAILED_LAUNCH_INTERVAL` seconds, so the service never settles;
* the service's and its deployment's counts and `rolloutState` follow the tasks;
* the lingering ENIs of stopped tasks (`eni_release_seconds`) go when due;
* tasks are spread over the service's subnets, fewest tasks per zone first.

A service with `loadBalancers` or an enabled deployment circuit breaker rolls as
AWS does (`_reconcile_rolling`): a new deployment becomes PRIMARY while the old
one stays ACTIVE with its tasks, which stop only once the new tasks run and pass
their target groups' health checks. Its tasks are registered in those target
groups (see load_balancer.py). The circuit breaker fails a deployment whose tasks
keep failing to start and, with rollback, starts a deployment of the last
completed task definition. Other services keep the simpler behaviour the existing
tests rely on: the old deployment and its tasks are replaced at once.

After each service is reconciled, `service_deployments.track` records what became
of its deployments, for ListServiceDeployments (a circuit breaker's rollback is
noted there as part of the deployment it rolls back).

The API middleware calls `reconcile_region` right after ECS writes and before ECS
reads; a background thread calls `reconcile_all` every `SCHEDULER_INTERVAL`.
All of it runs under the emulator's backend lock.
"""

from __future__ import annotations

import math
import sys
import threading
import time
import traceback
import uuid
from datetime import timedelta
from typing import Any

from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.ecs.models import ecs_backends
from moto.moto_api._internal import mock_random

from load_balancer import LoadBalancers
from service_deployments import note_rollback
from service_deployments import track as track_service_deployments
from task_runtime import TaskRuntimes, broken_image, mark_task_stopped

SCHEDULER_INTERVAL = 0.5
FAILED_LAUNCH_INTERVAL = 5.0
STOPPED_TASK_RETENTION = timedelta(hours=1)  # AWS keeps stopped tasks about an hour
FARGATE_CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
MAX_SERVICE_EVENTS = 100
# AWS's circuit breaker threshold: 0.5 x desired count, at least 3, at most 200.
CIRCUIT_BREAKER_MIN_THRESHOLD = 3
CIRCUIT_BREAKER_MAX_THRESHOLD = 200


class EcsScheduler:
    def __init__(self, lock: threading.RLock):
        self.lock = lock
        self.runtimes = TaskRuntimes(lock)
        self.balancers = LoadBalancers(lock, self.runtimes)
        self._last_failed_launch: dict[str, float] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error = ""

    # ----- when it runs -------------------------------------------------------

    def start_background(self) -> None:
        self._thread = threading.Thread(
            target=self._run_periodically, name="ecs-scheduler", daemon=True
        )
        self._thread.start()
        self.balancers.start_background()

    def shutdown(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.balancers.shutdown()
        with self.lock:
            self.runtimes.stop_all()

    def _run_periodically(self) -> None:
        while not self._stopping.wait(SCHEDULER_INTERVAL):
            with self.lock:
                try:
                    self.reconcile_all()
                except Exception:
                    self._report_error()

    def _report_error(self) -> None:
        # Print each distinct failure once, not every half second.
        error = traceback.format_exc()
        if error != self._last_error:
            self._last_error = error
            print(f"emulator: scheduler error:\n{error}", file=sys.stderr, flush=True)

    # ----- what it reconciles -------------------------------------------------

    def reconcile_all(self) -> None:
        self.runtimes.release_due_enis()
        known_tasks: set[int] = set()
        for _account_id, regions in list(ecs_backends.items()):
            for _region, backend in list(regions.items()):
                self.reconcile_backend(backend)
                known_tasks.update(id(task) for task in all_tasks(backend))
        # Tasks that vanished from moto (a /moto-api/reset) release their ports.
        for task in self.runtimes.tasks_with_runtime():
            if id(task) not in known_tasks:
                self.balancers.forget(task)
                self.runtimes.forget(task)
        self.balancers.sync_all()

    def reconcile_region(self, account_id: str, region: str) -> None:
        # dict.get, not [], so that a read never creates an empty account backend.
        regions = dict.get(ecs_backends, account_id)
        backend = dict.get(regions, region) if regions is not None else None
        if backend is not None:
            self.reconcile_backend(backend)

    def reconcile_backend(self, backend: Any) -> None:
        # Tasks first: a task stopped through StopTask is released, and then the
        # service sees it missing and launches its replacement, as on AWS.
        self.sync_task_runtimes(backend)
        for service in list(backend.services.values()):
            if service.launch_type == "FARGATE":
                self.reconcile_service(backend, service)
            # ListServiceDeployments' history follows what the deployments became.
            track_service_deployments(service)
        prune_old_stopped_tasks(backend)
        recount_clusters(backend)

    def sync_task_runtimes(self, backend: Any) -> None:
        """Start Fargate tasks that moto created (RunTask) and release stopped ones."""
        for task in all_tasks(backend):
            if not is_fargate_task(task):
                continue
            phase = getattr(task, "_emulator_phase", None)
            if task.desired_status == "STOPPED" and phase != "stopped":
                self._stop_task(task, "Task stopped by user", "UserInitiated")
            elif task.desired_status == "RUNNING" and phase is None:
                self._start_task(backend, task)

    def reconcile_service(self, backend: Any, service: Any) -> None:
        if not service.deployments:
            return  # external or CODE_DEPLOY controllers manage their own tasks
        pin_task_definition(backend, service)
        if rolls_like_aws(service):
            self._reconcile_rolling(backend, service)
            return
        deployment = service.deployments[0]
        if deployment.get("taskDefinition") != service.task_definition:
            deployment = start_new_deployment(service)

        target = desired_tasks(backend, service)

        running = service_tasks(backend, service)
        current = [t for t in running if t.started_by == deployment["id"]]
        outdated = [t for t in running if t.started_by != deployment["id"]]
        to_stop = outdated + current[target:]
        reason = f"Scaling activity initiated by (deployment {deployment['id']})"
        for task in to_stop:
            self._stop_task(task, reason, "ServiceSchedulerInitiated")
        if to_stop:
            add_event(service, f"has stopped {len(to_stop)} running tasks: {task_list(to_stop)}.")

        missing = target - len(current[:target])
        if missing > 0:
            self._launch_service_tasks(backend, service, deployment, missing)
        update_service_counts(backend, service, deployment)

    def _reconcile_rolling(self, backend: Any, service: Any) -> None:
        """A rolling update with the old deployment kept until the new one is healthy.

        ECS's defaults (maximumPercent 200, minimumHealthyPercent 100): the new
        deployment's tasks all start at once, and the old tasks stop when every new
        task runs and passes its target groups' health checks. Until then the old
        deployment is listed ACTIVE, and its tasks keep serving.
        """
        primary = service.deployments[0]
        forced = getattr(service, "_emulator_force_deployment", False)  # --force-new-deployment
        if forced or primary.get("taskDefinition") != service.task_definition:
            service._emulator_force_deployment = False
            primary = start_rolling_deployment(service)

        target = desired_tasks(backend, service)

        tasks = service_tasks(backend, service)
        current = [t for t in tasks if t.started_by == primary["id"]]
        to_stop = current[target:]
        if target == 0:
            to_stop += [t for t in tasks if t.started_by != primary["id"]]
        self._stop_service_tasks(service, to_stop)

        if primary.get("rolloutState") != "FAILED":
            missing = target - len(current[:target])
            if missing > 0:
                self._launch_service_tasks(backend, service, primary, missing)
            if primary.get("failedTasks", 0) >= circuit_breaker_threshold(service.desired_count):
                if circuit_breaker(service).get("enable"):
                    if self._trip_circuit_breaker(service, primary):
                        self._reconcile_rolling(backend, service)  # start the rollback now
                        return

        tasks = service_tasks(backend, service)
        ready = [
            t
            for t in tasks
            if t.started_by == primary["id"]
            and t.last_status == "RUNNING"
            and self.balancers.task_ready(t)
        ]
        if primary.get("rolloutState") != "FAILED" and len(ready) >= target:
            older = [t for t in tasks if t.started_by != primary["id"]]
            self._stop_service_tasks(service, older)
            if primary.get("rolloutState") != "COMPLETED":
                primary["rolloutState"] = "COMPLETED"
                primary["rolloutStateReason"] = f"ECS deployment {primary['id']} completed."
                primary["updatedAt"] = utcnow()
                service._emulator_completed = (primary["id"], primary["taskDefinition"])
                add_event(service, f"(deployment {primary['id']}) deployment completed.")
                service._emulator_steady = False  # "has reached a steady state." follows
            service.deployments = [primary]
        update_rolling_counts(backend, service)

    def _trip_circuit_breaker(self, service: Any, failed: dict[str, Any]) -> bool:
        """Fail the deployment; with rollback, start one of the last completed
        task definition. Returns whether it rolled back."""
        failed["rolloutState"] = "FAILED"
        failed["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
        failed["updatedAt"] = utcnow()
        add_event(service, f"(deployment {failed['id']}) deployment failed: tasks failed to start.")
        completed = getattr(service, "_emulator_completed", None)
        if not circuit_breaker(service).get("rollback") or completed is None:
            return False  # AWS rolls back only to a deployment that completed
        completed_id, task_definition = completed
        if task_definition == failed.get("taskDefinition"):
            return False
        add_event(service, f"rolling back to deployment {completed_id}.")
        service.task_definition = task_definition
        rollback = start_rolling_deployment(service)
        rollback["rolloutStateReason"] = (
            f"ECS deployment circuit breaker: rolling back to deploymentId {completed_id}."
        )
        # The rollback is part of the failed service deployment, not one of its own.
        note_rollback(service, failed["id"], rollback["id"])
        return True

    def _stop_service_tasks(self, service: Any, tasks: list[Any]) -> None:
        """Stop tasks of a service, deregistering their targets first, with AWS's events."""
        if not tasks:
            return
        target_groups: dict[str, int] = {}
        for task in tasks:
            for arn in self.balancers.deregister_task(task):
                target_groups[arn] = target_groups.get(arn, 0) + 1
        if target_groups:
            add_event(service, f"has begun draining connections on {len(tasks)} tasks.")
            for arn, count in target_groups.items():
                add_event(service, f"deregistered {count} targets in (target-group {arn})")
        for task in tasks:
            reason = f"Scaling activity initiated by (deployment {task.started_by})"
            self._stop_task(task, reason, "ServiceSchedulerInitiated")
        add_event(service, f"has stopped {len(tasks)} running tasks: {task_list(tasks)}.")

    # ----- task lifecycle -----------------------------------------------------

    def _launch_service_tasks(
        self, backend: Any, service: Any, deployment: dict[str, Any], count: int
    ) -> None:
        try:
            task_definition = backend.describe_task_definition(service.task_definition)
        except Exception:
            return  # a task definition deleted under the service: nothing to launch
        if broken_image(task_definition):
            # Fargate backs off between failed launches; one at a time, every few
            # seconds, keeps a recent STOPPED task around to describe.
            now = time.monotonic()
            last = self._last_failed_launch.get(service.arn)
            if last is not None and now - last < FAILED_LAUNCH_INTERVAL:
                return
            self._last_failed_launch[service.arn] = now
            count = 1
        tasks = []
        target_groups: dict[str, int] = {}
        for _ in range(count):
            try:
                # One at a time, each in the subnet whose zone has fewest tasks.
                task = backend.run_task(
                    service.cluster_name,
                    service.task_definition,
                    1,
                    None,
                    deployment["id"],
                    [],
                    "FARGATE",
                    networking_configuration=spread_network_configuration(backend, service),
                    group=f"service:{service.name}",
                    platform_version=service.platform_version,
                )[0]
            except Exception as error:
                # e.g. an awsvpc task definition and a service without a network
                # configuration, which AWS would have refused at CreateService.
                print(f"emulator: cannot launch tasks of {service.arn}: {error}", file=sys.stderr)
                break
            tasks.append(task)
            self._start_task(backend, task, task_definition)
            if task.last_status == "STOPPED":
                deployment["failedTasks"] = deployment.get("failedTasks", 0) + 1
            else:
                for arn in self.balancers.register_task(task, service):
                    target_groups[arn] = target_groups.get(arn, 0) + 1
        if not tasks:
            return
        add_event(service, f"has started {len(tasks)} tasks: {task_list(tasks)}.")
        for arn, registered in target_groups.items():
            add_event(service, f"registered {registered} targets in (target-group {arn})")

    def _start_task(self, backend: Any, task: Any, task_definition: Any = None) -> None:
        if task_definition is None:
            try:
                task_definition = backend.describe_task_definition(task.task_definition_arn)
            except Exception:
                task._emulator_phase = "running"  # leave moto's record as it is
                return
        self.runtimes.start(task, task_definition, backend)
        task._emulator_phase = "running" if task.last_status == "RUNNING" else "stopped"

    def _stop_task(self, task: Any, reason: str, stop_code: str) -> None:
        self.balancers.deregister_task(task)  # ECS deregisters before it stops the task
        mark_task_stopped(task, reason, stop_code)
        self.runtimes.stop(task)
        task._emulator_phase = "stopped"


# ----- helpers over moto's records ---------------------------------------------


def all_tasks(backend: Any) -> list[Any]:
    return [task for tasks in list(backend.tasks.values()) for task in list(tasks.values())]


def is_fargate_task(task: Any) -> bool:
    return (
        task.launch_type == "FARGATE" or task.capacity_provider_name in FARGATE_CAPACITY_PROVIDERS
    )


def desired_tasks(backend: Any, service: Any) -> int:
    """How many tasks the service should run now: none once it is deleted (DeleteService
    --force scales it to zero) or while its cluster is not ACTIVE."""
    cluster = backend.clusters.get(service.cluster_name)
    cluster_active = cluster is not None and cluster.status == "ACTIVE"
    if service.status != "ACTIVE":
        service.desired_count = 0
    return service.desired_count if cluster_active else 0


def service_tasks(backend: Any, service: Any) -> list[Any]:
    """The service's tasks that are meant to run (desiredStatus RUNNING)."""
    group = f"service:{service.name}"
    tasks = backend.tasks.get(service.cluster_name, {})
    return [
        task
        for task in list(tasks.values())
        if task.group == group and task.desired_status == "RUNNING"
    ]


def pin_task_definition(backend: Any, service: Any) -> None:
    """Resolve a family (or family:revision) given to UpdateService to its ARN.

    moto stores the string as given; AWS resolves it once, at the update, so a
    revision registered later does not silently change the service.
    """
    if service.task_definition and not service.task_definition.startswith("arn:"):
        try:
            service.task_definition = backend.describe_task_definition(service.task_definition).arn
        except Exception:
            pass


def start_new_deployment(service: Any) -> dict[str, Any]:
    """Replace the PRIMARY deployment after the task definition changed."""
    deployment = new_deployment(service)
    service.deployments = [deployment]
    return deployment


def start_rolling_deployment(service: Any) -> dict[str, Any]:
    """Make a new PRIMARY deployment; the previous ones stay, ACTIVE, until it completes."""
    deployment = new_deployment(service)
    for older in service.deployments:
        older["status"] = "ACTIVE"
    service.deployments = [deployment] + list(service.deployments)
    return deployment


def new_deployment(service: Any) -> dict[str, Any]:
    now = utcnow()
    deployment = dict(service.deployments[0])
    deployment_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
    deployment.update(
        id=deployment_id,
        status="PRIMARY",
        createdAt=now,
        updatedAt=now,
        taskDefinition=service.task_definition,
        desiredCount=service.desired_count,
        runningCount=0,
        pendingCount=0,
        failedTasks=0,
        rolloutState="IN_PROGRESS",
        rolloutStateReason=f"ECS deployment {deployment_id} in progress.",
    )
    if service.network_configuration:
        deployment["networkConfiguration"] = service.network_configuration
    return deployment


def rolls_like_aws(service: Any) -> bool:
    """Whether the service gets AWS's rolling update (see the module docstring)."""
    return bool(service.load_balancers) or bool(circuit_breaker(service).get("enable"))


def circuit_breaker(service: Any) -> dict[str, Any]:
    config = getattr(service, "deployment_configuration", None) or {}
    return config.get("deploymentCircuitBreaker") or {}


def circuit_breaker_threshold(desired_count: int) -> int:
    """Failed tasks that fail a deployment: AWS's formula, 3 for up to 6 tasks."""
    return max(
        CIRCUIT_BREAKER_MIN_THRESHOLD,
        min(CIRCUIT_BREAKER_MAX_THRESHOLD, math.ceil(0.5 * desired_count)),
    )


def spread_network_configuration(backend: Any, service: Any) -> dict[str, Any] | None:
    """The service's network configuration with the subnet for its next task first.

    moto puts a task's ENI in the first subnet given. ECS spreads a service's tasks
    over the availability zones of its subnets, so the subnet whose zone runs the
    fewest of the service's tasks goes first (ties: fewest in the subnet, then the
    order given), and tasks alternate between zones.
    """
    config = service.network_configuration or None
    vpc = (config or {}).get("awsvpcConfiguration") or {}
    subnets = list(vpc.get("subnets") or [])
    if len(subnets) < 2:
        return config
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    zones: dict[str, str] = {}
    for subnet_id in subnets:
        try:
            zones[subnet_id] = ec2.get_subnet(subnet_id).availability_zone
        except Exception:  # a subnet deleted since: its own "zone"
            zones[subnet_id] = subnet_id
    per_zone: dict[str, int] = {}
    per_subnet: dict[str, int] = {}
    for task in service_tasks(backend, service):
        subnet_id = task_subnet(task)
        if subnet_id in zones:
            per_subnet[subnet_id] = per_subnet.get(subnet_id, 0) + 1
            per_zone[zones[subnet_id]] = per_zone.get(zones[subnet_id], 0) + 1
    chosen = min(
        subnets,
        key=lambda s: (per_zone.get(zones[s], 0), per_subnet.get(s, 0), subnets.index(s)),
    )
    ordered = [chosen] + [s for s in subnets if s != chosen]
    return {**config, "awsvpcConfiguration": {**vpc, "subnets": ordered}}


def task_subnet(task: Any) -> str | None:
    for attachment in task.attachments:
        for detail in attachment.get("details", []):
            if detail.get("name") == "subnetId":
                return detail.get("value")
    return None


def update_service_counts(backend: Any, service: Any, deployment: dict[str, Any]) -> None:
    running = sum(
        1
        for task in service_tasks(backend, service)
        if task.last_status == "RUNNING" and task.started_by == deployment["id"]
    )
    steady = running == service.desired_count
    state = "COMPLETED" if steady else "IN_PROGRESS"
    counts = {
        "desiredCount": service.desired_count,
        "runningCount": running,
        "pendingCount": 0,
        "rolloutState": state,
        "rolloutStateReason": f"ECS deployment {deployment['id']} "
        + ("completed." if steady else "in progress."),
    }
    if any(deployment.get(key) != value for key, value in counts.items()):
        deployment.update(counts, updatedAt=utcnow())
    service.running_count = running
    service.pending_count = 0

    if steady:
        # The last completed deployment, should the circuit breaker be turned on later.
        service._emulator_completed = (deployment["id"], deployment.get("taskDefinition"))
    was_steady = getattr(service, "_emulator_steady", False)
    if service.status == "ACTIVE" and steady and not was_steady:
        add_event(service, "has reached a steady state.")
    service._emulator_steady = steady


def update_rolling_counts(backend: Any, service: Any) -> None:
    """Counts of a rolling service: each deployment its own tasks, the service all.

    Unlike `update_service_counts`, COMPLETED and FAILED stay once reached (AWS's
    rolloutState describes the rollout, not later scaling).
    """
    tasks = [t for t in service_tasks(backend, service) if t.last_status == "RUNNING"]
    primary = service.deployments[0]
    for deployment in service.deployments:
        running = sum(1 for t in tasks if t.started_by == deployment["id"])
        counts = {"runningCount": running, "pendingCount": 0}
        if deployment is primary:
            counts["desiredCount"] = service.desired_count
        if any(deployment.get(key) != value for key, value in counts.items()):
            deployment.update(counts, updatedAt=utcnow())
    service.running_count = len(tasks)
    service.pending_count = 0
    steady = (
        len(service.deployments) == 1
        and primary.get("rolloutState") == "COMPLETED"
        and service.running_count == service.desired_count
    )
    was_steady = getattr(service, "_emulator_steady", False)
    if service.status == "ACTIVE" and steady and not was_steady:
        add_event(service, "has reached a steady state.")
    service._emulator_steady = steady


def add_event(service: Any, message: str) -> None:
    # DescribeServices lists events newest first.
    event = {
        "id": str(uuid.uuid4()),
        "createdAt": utcnow(),
        "message": f"(service {service.name}) {message}",
    }
    service.events = [event] + list(service.events)[: MAX_SERVICE_EVENTS - 1]


def task_list(tasks: list[Any]) -> str:
    return ", ".join(f"(task {task.id})" for task in tasks)


def prune_old_stopped_tasks(backend: Any) -> None:
    cutoff = utcnow() - STOPPED_TASK_RETENTION
    for tasks in list(backend.tasks.values()):
        for arn, task in list(tasks.items()):
            stopped_at = getattr(task, "stopped_at", None)
            if is_fargate_task(task) and stopped_at is not None and stopped_at < cutoff:
                del tasks[arn]


def recount_clusters(backend: Any) -> None:
    """Derive the cluster counters from the tasks and services that exist.

    moto adjusts them by increments that drift (and never counts active services).
    """
    for cluster in list(backend.clusters.values()):
        tasks = list(backend.tasks.get(cluster.name, {}).values())
        cluster.running_tasks_count = sum(1 for t in tasks if t.last_status == "RUNNING")
        cluster.pending_tasks_count = 0
        cluster.active_services_count = sum(
            1
            for service in list(backend.services.values())
            if service.cluster_name == cluster.name and service.status == "ACTIVE"
        )

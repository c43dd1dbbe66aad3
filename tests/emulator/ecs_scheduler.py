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
* the lingering ENIs of stopped tasks (`eni_release_seconds`) go when due.

The API middleware calls `reconcile_region` right after ECS writes and before ECS
reads; a background thread calls `reconcile_all` every `SCHEDULER_INTERVAL`.
All of it runs under the emulator's backend lock.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
import uuid
from datetime import timedelta
from typing import Any

from moto.core.utils import utcnow
from moto.ecs.models import ecs_backends
from moto.moto_api._internal import mock_random

from task_runtime import TaskRuntimes, broken_image, mark_task_stopped

SCHEDULER_INTERVAL = 0.5
FAILED_LAUNCH_INTERVAL = 5.0
STOPPED_TASK_RETENTION = timedelta(hours=1)  # AWS keeps stopped tasks about an hour
FARGATE_CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
MAX_SERVICE_EVENTS = 100


class EcsScheduler:
    def __init__(self, lock: threading.RLock):
        self.lock = lock
        self.runtimes = TaskRuntimes(lock)
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

    def shutdown(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
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
                self.runtimes.forget(task)

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
        deployment = service.deployments[0]
        if deployment.get("taskDefinition") != service.task_definition:
            deployment = start_new_deployment(service)

        cluster = backend.clusters.get(service.cluster_name)
        cluster_active = cluster is not None and cluster.status == "ACTIVE"
        if service.status != "ACTIVE":
            service.desired_count = 0  # DeleteService --force scales to zero
        target = service.desired_count if cluster_active else 0

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
        try:
            tasks = backend.run_task(
                service.cluster_name,
                service.task_definition,
                count,
                None,
                deployment["id"],
                [],
                "FARGATE",
                networking_configuration=service.network_configuration or None,
                group=f"service:{service.name}",
                platform_version=service.platform_version,
            )
        except Exception as error:
            # e.g. an awsvpc task definition and a service without a network
            # configuration, which AWS would have refused at CreateService.
            print(f"emulator: cannot launch tasks of {service.arn}: {error}", file=sys.stderr)
            return
        for task in tasks:
            self._start_task(backend, task, task_definition)
            if task.last_status == "STOPPED":
                deployment["failedTasks"] = deployment.get("failedTasks", 0) + 1
        add_event(service, f"has started {len(tasks)} tasks: {task_list(tasks)}.")

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
    now = utcnow()
    deployment = dict(service.deployments[0])
    deployment_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
    deployment.update(
        id=deployment_id,
        createdAt=now,
        updatedAt=now,
        taskDefinition=service.task_definition,
        runningCount=0,
        pendingCount=0,
        failedTasks=0,
        rolloutState="IN_PROGRESS",
        rolloutStateReason=f"ECS deployment {deployment_id} in progress.",
    )
    if service.network_configuration:
        deployment["networkConfiguration"] = service.network_configuration
    service.deployments = [deployment]
    return deployment


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

"""ECS service deployments (`ListServiceDeployments`), which moto lacks.

Since October 2024 ECS keeps a history of each service's deployments: one *service
deployment* per deployment the scheduler starts (CreateService's first one, every
UpdateService that starts a new one, `--force-new-deployment`), with a status that
says what became of it. The grader reads it to tell "rolled back by the circuit
breaker" and "a newer deployment completed" apart without parsing service events.

The scheduler (ecs_scheduler.py) calls `track` for every service after each
reconcile, and `note_rollback` when the circuit breaker rolls a deployment back;
`track` turns what it sees in moto's `service.deployments` into records kept on the
service:

* a PRIMARY deployment it has not seen starts a new service deployment,
  `IN_PROGRESS`; every earlier one still unfinished is `STOPPED` (replaced);
* a deployment whose `rolloutState` reaches COMPLETED makes its service deployment
  `SUCCESSFUL`, with `finishedAt`;
* a deployment the circuit breaker fails WITH rollback stays one service
  deployment: `ROLLBACK_IN_PROGRESS` while the rollback deployment runs,
  `ROLLBACK_SUCCESSFUL` once it completes (`ROLLBACK_FAILED` should it fail too);
  the rollback is not a service deployment of its own, as on AWS;
* a deployment the circuit breaker fails WITHOUT rollback (rollback off, or no
  completed deployment to go back to) is `STOPPED`, its `statusReason` naming the
  circuit breaker. AWS's ServiceDeployment documentation says a deployment
  "stops" when the service fails and the rollback option is not in use; the exact
  wording of the reason is the emulator's;
* a deleted service's unfinished service deployments are `STOPPED`.

All of it runs under the emulator's backend lock (ECS calls and the scheduler).
"""

from __future__ import annotations

import calendar
import itertools
import string
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from moto.core.utils import utcnow
from moto.moto_api._internal import mock_random
from moto.utilities.utils import get_partition

# ServiceDeploymentStatus, as the SDKs know it.
STATUSES = (
    "PENDING",
    "SUCCESSFUL",
    "STOPPED",
    "STOP_REQUESTED",
    "IN_PROGRESS",
    "ROLLBACK_REQUESTED",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_SUCCESSFUL",
    "ROLLBACK_FAILED",
)
FINISHED = {"SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"}

CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."

_ID_ALPHABET = string.ascii_letters + string.digits
_sequence = itertools.count(1)


@dataclass
class ServiceDeploymentRecord:
    """One service deployment of one service."""

    id: str  # the last part of its ARN
    revision_id: str  # the last part of its target service revision's ARN
    deployment_id: str  # the scheduler's deployment (`ecs-svc/…`) it started
    created_at: datetime  # naive UTC, as moto keeps times
    sequence: int  # orders records created in the same millisecond
    status: str = "IN_PROGRESS"
    status_reason: str | None = None
    finished_at: datetime | None = None
    rollback_id: str | None = None  # the circuit breaker's rollback deployment, if any

    def finish(self, status: str, reason: str | None = None) -> None:
        self.status = status
        self.status_reason = reason
        self.finished_at = to_millis(utcnow())


def records(service: Any) -> list[ServiceDeploymentRecord]:
    """The service's service deployments, oldest first."""
    found = service.__dict__.get("_emulator_service_deployments")
    if found is None:
        found = service._emulator_service_deployments = []
    return found


def note_rollback(service: Any, failed_id: str, rollback_id: str) -> None:
    """The circuit breaker started deployment `rollback_id` to roll `failed_id` back."""
    rollbacks = service.__dict__.setdefault("_emulator_rollbacks", {})
    rollbacks[rollback_id] = failed_id


def track(service: Any) -> None:
    """Bring the service's records up to date with its deployments (see the module doc)."""
    deployments = [d for d in list(service.deployments or []) if d.get("id")]
    if not deployments:
        return  # EXTERNAL or CODE_DEPLOY controllers: no service deployments here
    history = records(service)
    primary = deployments[0]
    known = {r.deployment_id for r in history} | {r.rollback_id for r in history if r.rollback_id}
    by_id = {d["id"]: d for d in deployments}
    if primary["id"] not in known:
        rolled_back = getattr(service, "_emulator_rollbacks", {}).get(primary["id"])
        origin = next((r for r in history if r.deployment_id == rolled_back), None)
        if origin is None and rolled_back in by_id:
            origin = start(history, by_id[rolled_back])  # failed before it was ever seen
        if origin is not None and origin.rollback_id is None and origin.finished_at is None:
            origin.rollback_id = primary["id"]
        else:
            start(history, primary)

    for record in history:
        if record.finished_at is not None:
            continue
        if service.status != "ACTIVE":
            record.finish("STOPPED", "The service was deleted.")
            continue
        if record.rollback_id is not None:
            rollback = by_id.get(record.rollback_id)
            state = rollback.get("rolloutState") if rollback else None
            if state == "COMPLETED":
                record.finish("ROLLBACK_SUCCESSFUL", CIRCUIT_BREAKER_REASON)
            elif state == "FAILED":
                record.finish("ROLLBACK_FAILED", CIRCUIT_BREAKER_REASON)
            else:
                record.status = "ROLLBACK_IN_PROGRESS"
                record.status_reason = CIRCUIT_BREAKER_REASON
            continue
        deployment = by_id.get(record.deployment_id)
        state = deployment.get("rolloutState") if deployment else None
        if state == "COMPLETED":
            record.finish("SUCCESSFUL")
        elif state == "FAILED":
            # The rollback, when there is one, starts in the same reconcile as the
            # failure and was linked above; a failed deployment left without one
            # has stopped for good.
            record.finish("STOPPED", CIRCUIT_BREAKER_REASON)


def start(history: list[ServiceDeploymentRecord], deployment: dict[str, Any]) -> ServiceDeploymentRecord:
    """A new service deployment for `deployment`; the unfinished ones before it are replaced."""
    record = new_record(deployment)
    for older in history:
        if older.finished_at is None:
            older.finish("STOPPED", f"Replaced by service deployment {record.id}.")
    history.append(record)
    return record


def new_record(deployment: dict[str, Any]) -> ServiceDeploymentRecord:
    created = deployment.get("createdAt")
    return ServiceDeploymentRecord(
        id="".join(mock_random.choice(_ID_ALPHABET) for _ in range(21)),
        revision_id=str(mock_random.randint(10**18, 10**19 - 1)),
        deployment_id=deployment["id"],
        created_at=to_millis(created if isinstance(created, datetime) else utcnow()),
        sequence=next(_sequence),
    )


def to_millis(value: datetime) -> datetime:
    """A time as ECS's JSON shows it (epoch seconds with milliseconds), so that a
    `createdAt` filter given a listed time matches that very service deployment."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def brief(service: Any, record: ServiceDeploymentRecord) -> dict[str, Any]:
    """The record as a ServiceDeploymentBrief (moto's serializer writes the times as
    epoch seconds)."""
    prefix = (
        f"arn:{get_partition(service.region_name)}:ecs:{service.region_name}:"
        f"{service._account_id}"
    )
    path = f"{service.cluster_name}/{service.name}"
    answer: dict[str, Any] = {
        "serviceDeploymentArn": f"{prefix}:service-deployment/{path}/{record.id}",
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "createdAt": record.created_at,
        "startedAt": record.created_at,
        "targetServiceRevisionArn": f"{prefix}:service-revision/{path}/{record.revision_id}",
        "status": record.status,
    }
    if record.finished_at is not None:
        answer["finishedAt"] = record.finished_at
    if record.status_reason:
        answer["statusReason"] = record.status_reason
    return answer


def epoch(value: Any) -> float | None:
    """Seconds since the epoch of a request's timestamp (a number or a datetime)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return calendar.timegm(value.timetuple()) + value.microsecond / 1e6
    return float(value)


def listed(
    service: Any,
    statuses: list[str] | None,
    created_after: float | None,
    created_before: float | None,
) -> list[tuple[ServiceDeploymentRecord, tuple[float, int]]]:
    """The records that pass the filters, each with its sort key (newest first by it)."""
    track(service)
    chosen = []
    for record in records(service):
        created = epoch(record.created_at)
        if statuses and record.status not in statuses:
            continue
        if created_after is not None and created < created_after:
            continue
        if created_before is not None and created > created_before:
            continue
        chosen.append((record, (created, record.sequence)))
    return chosen

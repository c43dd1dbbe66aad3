"""Application Auto Scaling's bounds moving an ECS service, and the scaling activities
that record it; moto only stores the bounds.

On AWS, registering a scalable target (or registering it again with new bounds) whose
minimum is above the service's desired count raises the desired count to that
minimum at once, and a maximum below it lowers the count to that maximum; each such
change is a *scaling activity*, listed by DescribeScalingActivities for six weeks
("Setting desired count to 3.", caused by "minimum capacity was set to 3"). A
minimum lowered below the desired count changes nothing: the count stays until a
policy scales in (or someone sets it). Here, as there:

* RegisterScalableTarget for `ecs:service:DesiredCount` clamps the service's
  desiredCount into the new bounds and records a Successful activity when it
  moved it; the ECS scheduler then starts or stops tasks as for any change of
  the desired count;
* DescribeScalingActivities lists the recorded activities newest first, filtered
  by ResourceId and ScalableDimension, paged by MaxResults (50 at most and by
  default) and NextToken. Activities outlive the scalable target (AWS keeps them
  by resource for six weeks), so a grader must weigh them against the target's
  creation time.

No policy ever scales: nothing publishes the alarms' metrics (see
moto_patches.application_autoscaling_like_aws). Runs under the backend lock, as
every Application Auto Scaling call does (api_middleware.LOCKED_SERVICES).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.applicationautoscaling.models import ApplicationAutoscalingBackend
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

from account_settings import SETTINGS
from pagination import InvalidToken, PageRule, cut_page, page_size

ECS_DESIRED_COUNT = "ecs:service:DesiredCount"
ACTIVITY_PAGES = PageRule(default=50, maximum=50)


def activities_of(backend: Any) -> list[dict[str, Any]]:
    """The backend's recorded activities (kept on the backend, so a moto reset drops them)."""
    if not hasattr(backend, "_emulator_activities"):
        backend._emulator_activities = []
    return backend._emulator_activities


def ecs_service_of(backend: Any, resource_id: str) -> Any:
    """The ECS service a `service/CLUSTER/SERVICE` resource id names, or None."""
    parts = resource_id.split("/")
    if len(parts) != 3 or parts[0] != "service":
        return None
    _, cluster, name = parts
    services, _ = backend.ecs_backend.describe_services(cluster, [name])
    return services[0] if services else None


def clamp_desired_count(backend: Any, target: Any) -> None:
    """Move the service's desired count into the target's bounds, as a scaling activity."""
    service = ecs_service_of(backend, target.resource_id)
    if service is None or service.status != "ACTIVE":
        return
    current = service.desired_count
    low, high = target.min_capacity, target.max_capacity
    if low is not None and current < low:
        wanted, cause = low, f"minimum capacity was set to {low}"
    elif high is not None and current > high:
        wanted, cause = high, f"maximum capacity was set to {high}"
    else:
        return
    service.desired_count = wanted
    now = time.time()
    activities_of(backend).append(
        {
            "ActivityId": str(uuid.uuid4()),
            "ServiceNamespace": target.service_namespace,
            "ResourceId": target.resource_id,
            "ScalableDimension": target.scalable_dimension,
            "Description": f"Setting desired count to {wanted}.",
            "Cause": cause,
            "StartTime": now,
            "EndTime": now,
            "StatusCode": "Successful",
            "StatusMessage": f"Successfully set desired count to {wanted}. "
            "Change successfully fulfilled by ecs.",
        }
    )


def bounds_drive_desired_count() -> None:
    """Install the behaviour above (after moto_patches.application_autoscaling_like_aws)."""
    registered = ApplicationAutoscalingBackend.register_scalable_target

    def register_scalable_target(
        self: Any, namespace: str, r_id: str, dimension: str, *args: Any, **kwargs: Any
    ) -> Any:
        target = registered(self, namespace, r_id, dimension, *args, **kwargs)
        if namespace == "ecs" and dimension == ECS_DESIRED_COUNT:
            clamp_desired_count(self, target)
        return target

    def describe_scaling_activities(self: Any) -> Any:
        namespace = self._get_param("ServiceNamespace")
        resource_id = self._get_param("ResourceId")
        dimension = self._get_param("ScalableDimension")
        max_results = self._get_int_param("MaxResults")
        rule = ACTIVITY_PAGES
        if max_results is not None and not rule.minimum <= max_results <= rule.maximum:
            raise AWSValidationException(
                f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to "
                f"satisfy constraint: Member must have value less than or equal to {rule.maximum}"
            )
        chosen = [
            a
            for a in activities_of(self.applicationautoscaling_backend)
            if a["ServiceNamespace"] == namespace
            and (not resource_id or a["ResourceId"] == resource_id)
            and (not dimension or a["ScalableDimension"] == dimension)
        ]
        size = page_size(max_results, rule, SETTINGS.max_page_size(self.current_account))
        try:
            page, token = cut_page(
                chosen,
                lambda a: (a["StartTime"], a["ActivityId"]),
                size,
                self._get_param("NextToken"),
                descending=True,
            )
        except InvalidToken:
            raise AWSValidationException("Invalid NextToken") from None
        answer: dict[str, Any] = {"ScalingActivities": page}
        if token:
            answer["NextToken"] = token
        return json.dumps(answer)

    ApplicationAutoscalingBackend.register_scalable_target = register_scalable_target
    ApplicationAutoScalingResponse.describe_scaling_activities = describe_scaling_activities

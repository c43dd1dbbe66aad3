"""Small, targeted changes to moto 5.2.5 that the emulator needs before it serves.

Each function here changes one moto behaviour that differs from AWS in a way the
course's tests would trip over. They are applied once, at start-up, by server.py.
"""

from __future__ import annotations

import json
import os
from functools import cache
from types import SimpleNamespace
from typing import Any

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.ecs.models import EC2ContainerServiceBackend
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.exceptions import NotFoundException
from moto.iam.models import AWSManagedPolicy, IAMBackend, get_account_id_from, iam_backends
from moto.moto_api import state_manager

# A tick count that is never reached: with "manual" progression moto only moves a
# task to its next status after this many DescribeTasks calls.
_NEVER = 10**15


def keep_ecs_tasks_in_their_status() -> None:
    """Stop moto from walking every described task towards STOPPED.

    moto registers `ecs::task` with a "manual" transition that advances the status
    on each DescribeTasks. On AWS a running task stays RUNNING until something stops
    it; the emulator's scheduler is the only thing that changes task status.
    """
    state_manager.set_transition(
        model_name="ecs::task", transition={"progression": "manual", "times": _NEVER}
    )


def tolerate_task_level_memory() -> None:
    """Let RunTask and the scheduler place tasks whose memory is set on the task only.

    moto sums `memory` over the container definitions and crashes with a TypeError
    when a container has neither `memory` nor `memoryReservation`, which is the
    normal Fargate shape (`cpu`/`memory` on the task). The sum is only used for
    EC2 placement, so the patch feeds moto copies of the container definitions with
    a 0 default and never touches what DescribeTaskDefinition returns.
    """
    original = EC2ContainerServiceBackend._calculate_task_resource_requirements

    def calculate(task_definition: Any) -> dict[str, Any]:
        containers = [
            _with_default_memory(container) for container in task_definition.container_definitions
        ]
        # moto only reads `container_definitions`, so a stand-in object is enough.
        return original(SimpleNamespace(container_definitions=containers))

    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(calculate)


def _with_default_memory(container: dict[str, Any]) -> dict[str, Any]:
    memory_keys = ("memory", "memoryReservation", "Memory", "MemoryReservation")
    if any(container.get(key) is not None for key in memory_keys):
        return container
    return {**container, "memory": 0}


def default_security_groups() -> None:
    """Accept an awsvpcConfiguration without `securityGroups`, as AWS does.

    AWS then uses the VPC's default security group; moto fails with a KeyError
    (HTTP 500) in CreateService and RunTask. An empty list makes moto's ENI fall
    back to the default group.
    """
    original_run_task = EC2ContainerServiceBackend.run_task
    original_create_service = EC2ContainerServiceBackend.create_service

    def run_task(self: Any, *args: Any, **kwargs: Any) -> Any:
        if len(args) > 7:
            args = (*args[:7], _with_security_groups(args[7]), *args[8:])
        elif "networking_configuration" in kwargs:
            kwargs["networking_configuration"] = _with_security_groups(
                kwargs["networking_configuration"]
            )
        return original_run_task(self, *args, **kwargs)

    def create_service(self: Any, *args: Any, **kwargs: Any) -> Any:
        if "network_configuration" in kwargs:
            kwargs["network_configuration"] = _with_security_groups(kwargs["network_configuration"])
        return original_create_service(self, *args, **kwargs)

    EC2ContainerServiceBackend.run_task = run_task
    EC2ContainerServiceBackend.create_service = create_service


def _with_security_groups(config: dict[str, Any] | None) -> dict[str, Any] | None:
    vpc = (config or {}).get("awsvpcConfiguration")
    if vpc is None or "securityGroups" in vpc:
        return config
    return {**config, "awsvpcConfiguration": {**vpc, "securityGroups": []}}


def list_tasks_like_aws() -> None:
    """Make ListTasks honour `serviceName` and list RUNNING tasks by default.

    moto ignores `serviceName` (it never started service tasks) and lists tasks of
    every status when `desiredStatus` is absent; AWS lists only RUNNING ones.
    """
    original = EC2ContainerServiceBackend.list_tasks

    def list_tasks(
        self: Any,
        cluster_str: str | None = None,
        container_instance: str | None = None,
        family: str | None = None,
        started_by: str | None = None,
        service_name: str | None = None,
        desiredStatus: str | None = None,
    ) -> list[Any]:
        tasks = original(
            self,
            cluster_str,
            container_instance,
            family,
            started_by,
            None,
            desiredStatus or "RUNNING",
        )
        if not service_name:
            return tasks
        service = self._get_service(cluster_str or "default", service_name)
        return [task for task in tasks if task.group == f"service:{service.name}"]

    EC2ContainerServiceBackend.list_tasks = list_tasks


def describe_missing_tasks_as_failures() -> None:
    """Answer DescribeTasks for unknown task ids with `failures[].reason = MISSING`.

    moto always returns an empty `failures` list.
    """
    original = EC2ContainerServiceResponse.describe_tasks

    def describe_tasks(self: Any) -> Any:
        result = original(self)
        requested = self._get_param("tasks", [])
        found = result.result["tasks"]
        found_ids = {task.task_arn for task in found} | {task.id for task in found}
        result.result["failures"] = [
            {"arn": task, "reason": "MISSING"}
            for task in requested
            if task not in found_ids and task.split("/")[-1] not in found_ids
        ]
        return result

    EC2ContainerServiceResponse.describe_tasks = describe_tasks


# The AWS managed policies the course and its tests attach or read. moto can load
# all ~1,600 of them, but that costs a quarter of a second and many megabytes for
# every account, and a cohort test opens hundreds of accounts.
COURSE_MANAGED_POLICIES = (
    "AdministratorAccess",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ReadOnlyAccess",
    "AmazonECSTaskExecutionRolePolicy",
    "AmazonECS_FullAccess",
    "CloudWatchLogsFullAccess",
    "CloudWatchLogsReadOnlyAccess",
    "IAMReadOnlyAccess",
    "PowerUserAccess",
    "ReadOnlyAccess",
    "SecurityAudit",
    "ViewOnlyAccess",
)


def load_course_managed_policies() -> None:
    """Give every account the AWS managed policies the course uses.

    By default moto loads none, so attaching
    `arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy` fails
    with NoSuchEntity. MOTO_IAM_LOAD_MANAGED_POLICIES=true still loads them all.
    """
    original = IAMBackend._init_aws_policies

    def init_aws_policies(self: Any) -> list[Any]:
        if os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES", "").lower() == "true":
            return original(self)
        return [
            AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
            for name, data in _course_policy_data().items()
        ]

    IAMBackend._init_aws_policies = init_aws_policies


@cache
def _course_policy_data() -> dict[str, Any]:
    every_policy = json.loads(aws_managed_policies_data)
    return {name: every_policy[name] for name in COURSE_MANAGED_POLICIES}


def enforce_iam() -> None:
    """Check every call against IAM policies, except calls made with root credentials.

    moto's switch is `INITIAL_NO_AUTH_ACTION_COUNT` (the number of calls allowed
    before enforcement starts); 0 enforces from the first call. moto then rejects
    any access key it did not issue, so the usual `testing` keys could not set up
    anything. The emulator treats such keys as the account's root user, as AWS
    treats root credentials: allowed everything, never policy-checked.
    """
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if is_root_access_key(self.get_access_key()):
            return
        original(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authorize


def is_root_access_key(access_key: str) -> bool:
    """Whether a key acts as an account's root user under IAM enforcement.

    Two kinds of keys do: keys moto never issued (the default `testing` keys, root of
    123456789012), and keys from AssumeRole into a role that does not exist in the
    target account. The second is how tests reach a fresh account of a cohort and
    set it up (create its roles and policies) before enforcing anything there.
    Keys of IAM users and of sessions of existing roles are always checked.
    """
    account_id = get_account_id_from(access_key)
    if account_id not in iam_backends:
        return True
    key = iam_backends[account_id]["aws"].access_keys.get(access_key)
    if key is None:
        return True
    role_arn = getattr(key, "role_arn", None)
    if not role_arn:
        return False
    return not role_exists(role_arn)


def role_exists(role_arn: str) -> bool:
    """Whether `role_arn` names a role in its account, without creating that account."""
    return find_role(role_arn) is not None


def find_role(role_arn: str) -> Any | None:
    """The IAM role `role_arn` names, or None; never creates the account."""
    parts = role_arn.split(":")
    if len(parts) < 6 or parts[2] != "iam":
        return None
    account_id = parts[4]
    if account_id not in iam_backends:
        return None
    try:
        return iam_backends[account_id]["aws"].get_role_by_arn(role_arn)
    except NotFoundException:
        return None

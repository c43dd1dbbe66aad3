"""Builds what the benchmark measures, with boto3's botocore against the emulator.

- `build_lab`: the Fargate lab done right (as tests/support/lab.rs builds it).
- `set_up_class`: a class of learner accounts as tests/cohort.rs sets it up, each account
  on its own emulator (a class may be spread over several): each reached through
  `OrganizationAccountAccessRole`, with the `grader-audit` role trusting the instructor's
  account (ExternalId `class-7`) except in the accounts whose role cannot be assumed, and
  assorted leftovers in some accounts. Set up on a thread pool, since 200 accounts one
  after another at 20 ms per call would take minutes.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import botocore.loaders
import botocore.session
from botocore.config import Config

INSTRUCTOR = "123456789012"  # the account the default `testing` keys act in
TESTING_KEYS = ("testing", "testing", None)
AUDIT_ROLE = "grader-audit"
EXTERNAL_ID = "class-7"

CLUSTER = "fargate-course"
SERVICE = "web-nginx"
FAMILY = "nginx-web"
CONTAINER = "web"
IMAGE = "public.ecr.aws/nginx/nginx:stable"
LOG_GROUP = "/ecs/nginx-web"
STREAM_PREFIX = "web"
SECURITY_GROUP = "nginx-web-sg"
EXECUTION_ROLE = "ecsTaskExecutionRole"
INGRESS_CIDR = "127.0.0.1/32"
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
TASK_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
AUDIT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{INSTRUCTOR}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
        }
    ],
}

# Setup must get through whatever the emulator does; the tools under test get no such help.
SETUP_CONFIG = Config(retries={"max_attempts": 10, "mode": "standard"}, max_pool_connections=4)

_local = threading.local()
# Service models are loaded once and shared by every thread's session (each session would
# otherwise parse its own copy: hundreds of MB and seconds of CPU across 32 threads).
_shared_loader = botocore.loaders.create_loader()


def _session() -> botocore.session.Session:
    """One session per thread (sessions are not thread-safe; the clients they make are)."""
    if not hasattr(_local, "session"):
        _local.session = botocore.session.get_session()
        _local.session.register_component("data_loader", _shared_loader)
    return _local.session


@dataclass(frozen=True)
class Account:
    """Where and as whom to act: an endpoint, an account id and its keys."""

    endpoint: str
    account_id: str
    keys: tuple[str, str, str | None] = TESTING_KEYS

    def client(self, service: str, region: str = "us-east-1"):
        """A client acting as this account. The instructor's clients are made once per
        thread; a learner's are dropped (with their connections) once set up."""
        if self.keys != TESTING_KEYS:
            return self._new_client(service, region)
        cache = _local.__dict__.setdefault("clients", {})
        if (self.endpoint, service, region) not in cache:
            cache[self.endpoint, service, region] = self._new_client(service, region)
        return cache[self.endpoint, service, region]

    def _new_client(self, service: str, region: str):
        key, secret, token = self.keys
        return _session().create_client(
            service, region_name=region, endpoint_url=self.endpoint, config=SETUP_CONFIG,
            aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
        )


def assume(endpoint: str, account_id: str, role: str) -> Account:
    """Acts in `account_id` through `role`, starting from the default `testing` keys."""
    sts = Account(endpoint, INSTRUCTOR).client("sts")
    answer = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{role}", RoleSessionName="bench-setup")
    c = answer["Credentials"]
    return Account(endpoint, account_id, (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]))


# ---------------------------------------------------------------------------------------
# The finished lab


def build_lab(account: Account, region: str = "us-east-1") -> None:
    """The lab done right: security group, cluster, role, log group, task definition and a
    Fargate service with a public IP, in the default VPC's first subnet."""
    ec2 = account.client("ec2", region)
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnet_id = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"][0]["SubnetId"]
    group_id = ec2.create_security_group(GroupName=SECURITY_GROUP, Description="lab web access", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": INGRESS_CIDR}]}],
    )
    ecs = account.client("ecs", region)
    ecs.create_cluster(clusterName=CLUSTER)
    create_execution_role(account)
    logs = account.client("logs", region)
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=7)
    task_definition = register_task_definition(account, region)
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=task_definition,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [subnet_id], "securityGroups": [group_id], "assignPublicIp": "ENABLED"}
        },
    )


def create_execution_role(account: Account) -> None:
    iam = account.client("iam")
    try:
        iam.get_role(RoleName=EXECUTION_ROLE)
        return
    except iam.exceptions.NoSuchEntityException:
        pass
    iam.create_role(RoleName=EXECUTION_ROLE, AssumeRolePolicyDocument=json.dumps(TASK_TRUST))
    iam.attach_role_policy(RoleName=EXECUTION_ROLE, PolicyArn=EXECUTION_POLICY)


def register_task_definition(account: Account, region: str) -> str:
    """Registers the lab's task definition (CPU and memory at task level); returns its ARN."""
    answer = account.client("ecs", region).register_task_definition(
        family=FAMILY,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        executionRoleArn=f"arn:aws:iam::{account.account_id}:role/{EXECUTION_ROLE}",
        containerDefinitions=[
            {
                "name": CONTAINER,
                "image": IMAGE,
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": LOG_GROUP, "awslogs-region": region, "awslogs-stream-prefix": STREAM_PREFIX},
                },
            }
        ],
    )
    return answer["taskDefinition"]["taskDefinitionArn"]


def wait_until_serving(account: Account, region: str = "us-east-1", timeout_s: float = 60.0) -> None:
    """Waits until the service runs its task and the task has written its first log lines,
    so the tools under test never wait for the lab."""
    ecs, logs = account.client("ecs", region), account.client("logs", region)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        service = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{STREAM_PREFIX}/")["logStreams"]
        if service["runningCount"] == service["desiredCount"] > 0 and any("lastEventTimestamp" in s for s in streams):
            return
        time.sleep(0.5)
    raise TimeoutError(f"the lab's service did not start within {timeout_s:.0f} s")


# ---------------------------------------------------------------------------------------
# A class of learner accounts

# What each kind of account holds, and the cleanup verdict the grader owes it.
EXPECTED_STATUS = {
    "clean": "pass",
    "running-service": "fail",
    "empty-cluster": "fail",
    "log-group-only": "fail",
    "security-group-only": "fail",
    "inactive-task-definitions-only": "pass",
    "no-role": "error",
}


def class_kinds(count: int = 200) -> list[str]:
    """The class's accounts by kind. 200: 150 clean, 8 of each kind of leftover, 10 whose
    role cannot be assumed; a multiple of 200 has each of those `count / 200` times over,
    and any other count a spread sample of them (in the same order)."""
    kinds = ["clean"] * 150
    for kind in ["running-service", "empty-cluster", "log-group-only", "security-group-only", "inactive-task-definitions-only"]:
        kinds += [kind] * 8
    kinds += ["no-role"] * 10
    return [kinds[i * len(kinds) // count] for i in range(count)]


def class_account_ids(count: int) -> list[str]:
    return [f"7{i:011d}" for i in range(1, count + 1)]


def set_up_account(endpoint: str, account_id: str, kind: str) -> None:
    """One learner account, reached the way AWS Organizations allows."""
    learner = assume(endpoint, account_id, "OrganizationAccountAccessRole")
    if kind != "no-role":
        learner.client("iam").create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=json.dumps(AUDIT_TRUST))
    if kind == "running-service":
        build_lab(learner, "us-west-2")
    elif kind == "empty-cluster":
        learner.client("ecs", "us-west-2").create_cluster(clusterName=CLUSTER)
    elif kind == "log-group-only":
        learner.client("logs", "eu-west-1").create_log_group(logGroupName=LOG_GROUP)
    elif kind == "security-group-only":
        learner.client("ec2").create_security_group(GroupName=SECURITY_GROUP, Description="left over")
    elif kind == "inactive-task-definitions-only":
        arn = register_task_definition(learner, "us-east-1")
        learner.client("ecs").deregister_task_definition(taskDefinition=arn)


def set_up_class(accounts: list[tuple[str, str, str]], threads: int = 32) -> None:
    """Sets up every (endpoint, account id, kind) on a thread pool (each account on its own
    emulator); the first failure is raised."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(set_up_account, endpoint, account_id, kind) for endpoint, account_id, kind in accounts]
        for future in futures:
            future.result()


def roster_csv(account_ids: list[str], profiles: list[str] | None = None) -> str:
    """The roster; with `profiles`, each account's row names its profile (whose section in
    the AWS config file gives the endpoint and the source credentials)."""
    if profiles is None:
        lines = ["label,account_id,role_arn,external_id"]
        profiles = [""] * len(account_ids)
    else:
        lines = ["label,account_id,role_arn,external_id,region,profile"]
    for i, (account_id, profile) in enumerate(zip(account_ids, profiles, strict=True)):
        row = f"learner-{i:04},{account_id},arn:aws:iam::{account_id}:role/{AUDIT_ROLE},{EXTERNAL_ID}"
        lines.append(row + (f",,{profile}" if profile else ""))
    return "\n".join(lines) + "\n"


def profiles_config(endpoints: dict[str, str], region: str = "us-east-1") -> str:
    """An AWS config file with one profile per emulator: its endpoint and the instructor's
    `testing` keys as source credentials."""
    key, secret, _ = TESTING_KEYS
    sections = [
        f"[profile {name}]\nendpoint_url = {url}\naws_access_key_id = {key}\naws_secret_access_key = {secret}\nregion = {region}\n"
        for name, url in endpoints.items()
    ]
    return "\n".join(sections)

#!/usr/bin/env python3
"""The Fargate lab's build checks (step-1 .. step-9) as a plain, sequential boto3 script.

A baseline for `scripts/bench`: what a course author would write without the grader. One
call after another, no threads, no retries beyond boto3's defaults. It reuses what an
earlier check already found (the default VPC's id, the task's public IP), as any script
would. Prints one `pass CHECK-ID` or `fail CHECK-ID` line per check, with the lab's check
ids, and exits 1 when any check fails.

Credentials, region and endpoint come from the environment (AWS_ACCESS_KEY_ID,
AWS_DEFAULT_REGION, AWS_ENDPOINT_URL, ...). Lab names can be changed with the same
variables `cli-check.sh` reads (CLUSTER, SERVICE, FAMILY, ...).
"""

from __future__ import annotations

import os
import sys
import urllib.request

import boto3
from botocore.exceptions import ClientError

CLUSTER = os.environ.get("CLUSTER", "fargate-course")
SERVICE = os.environ.get("SERVICE", "web-nginx")
FAMILY = os.environ.get("FAMILY", "nginx-web")
LOG_GROUP = os.environ.get("LOG_GROUP", "/ecs/nginx-web")
STREAM_PREFIX = os.environ.get("STREAM_PREFIX", "web")
SECURITY_GROUP = os.environ.get("SECURITY_GROUP", "nginx-web-sg")
ROLE = os.environ.get("EXECUTION_ROLE", "ecsTaskExecutionRole")
TRUSTED_SERVICE = "ecs-tasks.amazonaws.com"
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
PORT = 80

session = boto3.session.Session()
sts = session.client("sts")
ec2 = session.client("ec2")
ecs = session.client("ecs")
iam = session.client("iam")
logs = session.client("logs")

# What earlier checks found, for later ones.
found: dict[str, object] = {}


def identity() -> bool:
    return bool(sts.get_caller_identity().get("Account"))


def default_vpc() -> bool:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        return False
    found["vpc_id"] = vpcs[0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [found["vpc_id"]]}])["Subnets"]
    return len(subnets) >= 1


def opens_tcp(rule: dict, port: int) -> bool:
    protocol = rule.get("IpProtocol")
    if protocol in ("-1", "all"):
        return True
    if protocol in ("tcp", "6"):
        low, high = rule.get("FromPort"), rule.get("ToPort")
        return low is None or high is None or low <= port <= high
    return False


def security_group() -> bool:
    if "vpc_id" not in found:
        return False
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "group-name", "Values": [SECURITY_GROUP]},
            {"Name": "vpc-id", "Values": [found["vpc_id"]]},
        ]
    )["SecurityGroups"]
    if not groups:
        return False
    sources = [
        cidr
        for rule in groups[0].get("IpPermissions", [])
        if opens_tcp(rule, PORT)
        for cidr in [r["CidrIp"] for r in rule.get("IpRanges", [])]
        + [r["CidrIpv6"] for r in rule.get("Ipv6Ranges", [])]
    ]
    if not sources or any(c in ("0.0.0.0/0", "::/0") for c in sources):
        return False
    return all(c.endswith(("/32", "/128")) for c in sources)


def cluster_active() -> bool:
    clusters = ecs.describe_clusters(clusters=[CLUSTER])["clusters"]
    return any(c.get("status") == "ACTIVE" for c in clusters)


def as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def trusts_service(statement: dict, service: str) -> bool:
    """Whether one trust-policy statement lets `service` assume the role."""
    principal = statement.get("Principal")
    services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
    actions = as_list(statement.get("Action"))
    return (
        statement.get("Effect") == "Allow"
        and any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions)
        and service in services
    )


def execution_role() -> bool:
    try:
        role = iam.get_role(RoleName=ROLE)["Role"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "NoSuchEntity":
            return False
        raise
    statements = as_list(role["AssumeRolePolicyDocument"].get("Statement", []))
    if not any(trusts_service(s, TRUSTED_SERVICE) for s in statements):
        return False
    attached = iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
    return any(p["PolicyArn"] == EXECUTION_POLICY for p in attached)


def log_group() -> bool:
    groups = logs.describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"]
    return any(g["logGroupName"] == LOG_GROUP and g.get("retentionInDays") == 7 for g in groups)


def task_definition() -> bool:
    try:
        d = ecs.describe_task_definition(taskDefinition=FAMILY)["taskDefinition"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "ClientException":
            return False
        raise
    containers = d.get("containerDefinitions", [])
    if not containers:
        return False
    c = containers[0]
    log = c.get("logConfiguration") or {}
    options = log.get("options") or {}
    return (
        d.get("networkMode") == "awsvpc"
        and "FARGATE" in d.get("requiresCompatibilities", [])
        and d.get("cpu") == "256"
        and d.get("memory") == "512"
        and d.get("executionRoleArn", "").rsplit("/", 1)[-1] == ROLE
        and "nginx" in c.get("image", "")
        and PORT in [p.get("containerPort") for p in c.get("portMappings", [])]
        and log.get("logDriver") == "awslogs"
        and options.get("awslogs-group") == LOG_GROUP
        and options.get("awslogs-stream-prefix") == STREAM_PREFIX
    )


def service_stable() -> bool:
    services = ecs.describe_services(cluster=CLUSTER, services=[SERVICE]).get("services", [])
    if not services:
        return False
    s = services[0]
    on_fargate = s.get("launchType") == "FARGATE" or any(
        p.get("capacityProvider", "").startswith("FARGATE") for p in s.get("capacityProviderStrategy", [])
    )
    public_ip = s.get("networkConfiguration", {}).get("awsvpcConfiguration", {}).get("assignPublicIp")
    family = s.get("taskDefinition", "").rsplit("/", 1)[-1].rsplit(":", 1)[0]
    return (
        s.get("status") == "ACTIVE"
        and on_fargate
        and public_ip == "ENABLED"
        and family == FAMILY
        and len(s.get("deployments", [])) == 1
        and s["runningCount"] == s["desiredCount"] > 0
    )


def task_eni(task: dict) -> str | None:
    for attachment in task.get("attachments", []):
        if attachment.get("type") == "ElasticNetworkInterface":
            for detail in attachment.get("details", []):
                if detail.get("name") == "networkInterfaceId":
                    return detail.get("value")
    return None


def public_ip() -> bool:
    try:
        arns = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus="RUNNING")["taskArns"]
    except ClientError as e:
        if e.response["Error"]["Code"] in ("ServiceNotFoundException", "ClusterNotFoundException"):
            return False
        raise
    if not arns:
        return False
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    enis = [e for e in (task_eni(t) for t in tasks if t.get("lastStatus") == "RUNNING") if e]
    if not enis:
        return False
    interfaces = ec2.describe_network_interfaces(NetworkInterfaceIds=enis)["NetworkInterfaces"]
    ips = [i["Association"]["PublicIp"] for i in interfaces if i.get("Association", {}).get("PublicIp")]
    found["ips"] = ips
    return bool(ips)


def http_200() -> bool:
    ips = found.get("ips") or []
    if not ips:
        return False
    for ip in ips:
        try:
            with urllib.request.urlopen(f"http://{ip}:{PORT}/", timeout=5) as answer:
                if answer.status != 200 or "Welcome to nginx" not in answer.read().decode("utf-8", "replace"):
                    return False
        except OSError:
            return False
    return True


def log_streams() -> bool:
    try:
        streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{STREAM_PREFIX}/")["logStreams"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    return any("lastEventTimestamp" in s or "lastIngestionTime" in s for s in streams)


# In lab order: step-1 .. step-9, with the lab's check ids.
CHECKS = [
    ("identity", identity),
    ("default-vpc", default_vpc),
    ("security-group", security_group),
    ("cluster-active", cluster_active),
    ("execution-role", execution_role),
    ("log-group", log_group),
    ("task-definition", task_definition),
    ("service-stable", service_stable),
    ("public-ip", public_ip),
    ("http-200", http_200),
    ("log-streams", log_streams),
]


def main() -> int:
    failed = 0
    for check_id, check in CHECKS:
        try:
            ok = check()
        except ClientError as e:
            print(f"{check_id}: {e}", file=sys.stderr)
            ok = False
        print(f"{'pass' if ok else 'fail'} {check_id}", flush=True)
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The AWS Cloud Control API's reads (GetResource, ListResources) on moto's backends.

moto has no Cloud Control of its own. Lab authors check resources of any type
through it (`kind: resource` and `resource_absent`), so the emulator answers it
for the types below from the same moto state the AWS CLI and the SDKs change:
properties in the shapes of each type's CloudFormation registry schema (the
schema's names, nesting and value types; write-only properties such as a
secret's value or an SSM parameter's are left out, as AWS leaves them out), and
the identifiers the schema names as primary.

Wire: JSON 1.0, `X-Amz-Target: CloudApiService.<Action>`, signed for
`cloudcontrolapi`. `ResourceDescription.Properties` is a JSON document in a
string. ListResources pages at its own size (25) and ignores MaxResults, as AWS
does (the API reference calls it reserved). Errors as AWS sends them, which is
not always as its model says: ResourceNotFoundException with HTTP 400 and the
handler's "Resource of type … was not found" message; TypeNotFoundException (404)
for a type name the registry does not have (here: one this module does not
model, named as such); ValidationException for a malformed request;
InvalidRequestException for a token this emulator did not issue.

Under `--enforce-iam` a call needs its own action (`cloudformation:GetResource`
or `cloudformation:ListResources`: AccessDeniedException "… on resource:
arn:aws:cloudformation:REGION:ACCOUNT:resource/* …") and, as the type's handler
runs with the caller's credentials, every permission of the type's read (or list)
handler: a missing one is AccessDeniedException "TYPE Handler returned status
FAILED: … (HandlerErrorCode: AccessDenied …)".
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto import settings
from moto.core.exceptions import AccessDeniedError, InvalidClientTokenIdError
from moto.cloudwatch.models import cloudwatch_backends
from moto.dynamodb.models import dynamodb_backends
from moto.ecr.models import ecr_backends
from moto.iam.access_control import IAMRequest
from moto.iam.models import iam_backends
from moto.logs.models import logs_backends
from moto.s3.models import s3_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.sqs.models import sqs_backends
from moto.ssm.models import ssm_backends

from account_settings import SETTINGS
from moto_patches import is_root_access_key
from pagination import InvalidToken, PageRule, cut_page, page_size

Response = tuple[int, list[tuple[str, str]], bytes]
Properties = dict[str, Any]

# ListResources pages at its own size: MaxResults is documented as reserved and
# AWS ignores it (aws/aws-sdk#764 reports pages of 25), so the emulator does too.
LIST_PAGE = PageRule(default=25, maximum=100, minimum=1)


@dataclass(frozen=True)
class ResourceType:
    """One modelled type: its reads from moto, and its handlers' permissions."""

    read: Callable[[str, str, str], Properties | None]  # (account, region, identifier)
    list: Callable[[str, str], list[tuple[str, Properties]]]  # (account, region)
    read_permissions: tuple[str, ...]
    list_permissions: tuple[str, ...]


def _drop_empty(props: Properties) -> Properties:
    """AWS leaves unset properties out rather than sending nulls."""
    return {k: v for k, v in props.items() if v is not None and v != [] and v != {} and v != ""}


def _tags(tags: Any) -> list[dict[str, str]] | None:
    """Tags as the schemas give them: [{Key, Value}], from moto's dict or list forms."""
    if not tags:
        return None
    if isinstance(tags, dict):
        return [{"Key": k, "Value": v} for k, v in tags.items()]
    return [{"Key": t.get("Key", t.get("key")), "Value": t.get("Value", t.get("value"))} for t in tags]


# ----- AWS::S3::Bucket ------------------------------------------------------------


def _s3(account: str) -> Any:
    return s3_backends[account]["aws"]


def _bucket(account: str, region: str, name: str) -> Properties | None:
    backend = _s3(account)
    bucket = backend.buckets.get(name)
    if bucket is None:
        return None
    encryption = None
    if bucket.encryption:
        rules = bucket.encryption.get("Rule", [])
        rules = rules if isinstance(rules, list) else [rules]
        encryption = {
            "ServerSideEncryptionConfiguration": [
                _drop_empty(
                    {
                        "ServerSideEncryptionByDefault": _drop_empty(
                            {
                                "SSEAlgorithm": r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm"),
                                "KMSMasterKeyID": r.get("ApplyServerSideEncryptionByDefault", {}).get("KMSMasterKeyID"),
                            }
                        ),
                        "BucketKeyEnabled": _bool(r.get("BucketKeyEnabled")),
                    }
                )
                for r in rules
            ]
        }
    block = None
    if bucket.public_access_block is not None:
        b = bucket.public_access_block
        block = {
            "BlockPublicAcls": _bool(b.block_public_acls),
            "IgnorePublicAcls": _bool(b.ignore_public_acls),
            "BlockPublicPolicy": _bool(b.block_public_policy),
            "RestrictPublicBuckets": _bool(b.restrict_public_buckets),
        }
    tags = backend.get_bucket_tagging(name).get("Tags")
    return _drop_empty(
        {
            "BucketName": name,
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{bucket.region_name}.amazonaws.com",
            "VersioningConfiguration": {"Status": bucket.versioning_status} if bucket.versioning_status else None,
            "BucketEncryption": encryption,
            "PublicAccessBlockConfiguration": block,
            "Tags": _tags(tags),
        }
    )


def _bool(value: Any) -> bool | None:
    """moto keeps some S3 flags as the strings of the XML it was sent."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _buckets(account: str, region: str) -> list[tuple[str, Properties]]:
    # The list handler answers a region's buckets.
    names = [n for n, b in _s3(account).buckets.items() if b.region_name == region]
    return [(n, p) for n in names if (p := _bucket(account, region, n)) is not None]


# ----- AWS::DynamoDB::Table -------------------------------------------------------


def _table(account: str, region: str, name: str) -> Properties | None:
    table = dynamodb_backends[account][region].tables.get(name)
    if table is None:
        return None
    pitr = (table.continuous_backups or {}).get("PointInTimeRecoveryDescription", {})
    ttl = table.ttl or {}
    stream = table.stream_specification or {}
    provisioned = None
    if table.billing_mode != "PAY_PER_REQUEST" and table.throughput:
        provisioned = {
            "ReadCapacityUnits": table.throughput.get("ReadCapacityUnits"),
            "WriteCapacityUnits": table.throughput.get("WriteCapacityUnits"),
        }
    return _drop_empty(
        {
            "TableName": table.name,
            "Arn": table.table_arn,
            "BillingMode": table.billing_mode or "PROVISIONED",
            "KeySchema": table.schema,
            "AttributeDefinitions": table.attr,
            "ProvisionedThroughput": provisioned,
            "PointInTimeRecoverySpecification": {
                "PointInTimeRecoveryEnabled": pitr.get("PointInTimeRecoveryStatus") == "ENABLED"
            },
            "TimeToLiveSpecification": _drop_empty(
                {"AttributeName": ttl.get("AttributeName"), "Enabled": ttl.get("TimeToLiveStatus") == "ENABLED"}
            ),
            "StreamSpecification": {"StreamViewType": stream["StreamViewType"]} if stream.get("StreamEnabled") else None,
            "StreamArn": table.latest_stream_label and f"{table.table_arn}/stream/{table.latest_stream_label}",
            "DeletionProtectionEnabled": bool(table.deletion_protection_enabled),
            "Tags": _tags(table.tags),
        }
    )


def _tables(account: str, region: str) -> list[tuple[str, Properties]]:
    names = list(dynamodb_backends[account][region].tables)
    return [(n, p) for n in names if (p := _table(account, region, n)) is not None]


# ----- AWS::SSM::Parameter --------------------------------------------------------


def _parameter(account: str, region: str, name: str) -> Properties | None:
    versions = ssm_backends[account][region]._parameters.get(name)
    if not versions:
        return None
    latest = versions[-1]
    # Description, Tier, AllowedPattern and Policies are write-only in the schema.
    return _drop_empty(
        {
            "Name": latest.name,
            "Type": latest.parameter_type,
            "Value": latest.value,
            "DataType": latest.data_type,
        }
    )


def _parameters(account: str, region: str) -> list[tuple[str, Properties]]:
    # The list handler answers identifiers only.
    parameters = ssm_backends[account][region]._parameters
    return [(n, {"Name": n}) for n in list(parameters) if parameters.get(n)]


# ----- AWS::SQS::Queue ------------------------------------------------------------


def _queue_url(account: str, region: str, name: str) -> str:
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


def _queue(account: str, region: str, url: str) -> Properties | None:
    # A queue's URL is `<endpoint>/<account>/<name>`; the endpoint is whatever the
    # client spoke to (moto answers with its own address), so only the path counts.
    parts = url.rstrip("/").rsplit("/", 2)
    if len(parts) != 3 or parts[1] != account:
        return None
    name = parts[2]
    queue = sqs_backends[account][region].queues.get(name)
    if queue is None:
        return None
    redrive = queue.redrive_policy
    if isinstance(redrive, str):
        redrive = json.loads(redrive)
    return _drop_empty(
        {
            "QueueUrl": url,
            "QueueName": name,
            "Arn": queue.queue_arn,
            "VisibilityTimeout": int(queue.visibility_timeout),
            "MessageRetentionPeriod": int(queue.message_retention_period),
            "DelaySeconds": int(queue.delay_seconds),
            "MaximumMessageSize": int(queue.maximum_message_size),
            "ReceiveMessageWaitTimeSeconds": int(queue.receive_message_wait_time_seconds),
            "FifoQueue": True if queue.fifo_queue else None,
            "SqsManagedSseEnabled": bool(queue.sqs_managed_sse_enabled),
            "KmsMasterKeyId": queue.kms_master_key_id,
            "RedrivePolicy": redrive,
            "Tags": _tags(queue.tags),
        }
    )


def _queues(account: str, region: str) -> list[tuple[str, Properties]]:
    names = list(sqs_backends[account][region].queues)
    urls = [_queue_url(account, region, n) for n in names]
    return [(u, {"QueueUrl": u}) for u in urls]


# ----- AWS::Logs::LogGroup --------------------------------------------------------


def _log_group(account: str, region: str, name: str) -> Properties | None:
    group = logs_backends[account][region].groups.get(name)
    if group is None:
        return None
    return _drop_empty(
        {
            "LogGroupName": group.name,
            "Arn": f"{group.arn}:*",
            "RetentionInDays": group.retention_in_days,
            "KmsKeyId": group.kms_key_id,
        }
    )


def _log_groups(account: str, region: str) -> list[tuple[str, Properties]]:
    names = list(logs_backends[account][region].groups)
    return [(n, p) for n in names if (p := _log_group(account, region, n)) is not None]


# ----- AWS::ECR::Repository -------------------------------------------------------


def _repository(account: str, region: str, name: str) -> Properties | None:
    repo = ecr_backends[account][region].repositories.get(name)
    if repo is None:
        return None
    encryption = repo.encryption_configuration or {}
    return _drop_empty(
        {
            "RepositoryName": repo.name,
            "Arn": repo.arn,
            "RepositoryUri": repo.uri,
            "ImageTagMutability": repo.image_tag_mutability,
            "ImageScanningConfiguration": {
                "ScanOnPush": bool((repo.image_scanning_configuration or {}).get("scanOnPush"))
            },
            "EncryptionConfiguration": _drop_empty(
                {"EncryptionType": encryption.get("encryptionType"), "KmsKey": encryption.get("kmsKey")}
            ),
        }
    )


def _repositories(account: str, region: str) -> list[tuple[str, Properties]]:
    names = list(ecr_backends[account][region].repositories)
    return [(n, p) for n in names if (p := _repository(account, region, n)) is not None]


# ----- AWS::SecretsManager::Secret ------------------------------------------------


def _secret_by_arn(account: str, region: str, arn: str) -> Any:
    for secret in secretsmanager_backends[account][region].secrets.values():
        if getattr(secret, "arn", None) == arn:
            return secret
    return None


def _secret(account: str, region: str, identifier: str) -> Properties | None:
    # The primary identifier is the ARN (`Id`); a secret scheduled for deletion is gone.
    secret = _secret_by_arn(account, region, identifier)
    if secret is None or getattr(secret, "deleted_date", None):
        return None
    return _drop_empty(
        {
            "Id": secret.arn,
            "Name": secret.name,
            "Description": secret.description,
            "KmsKeyId": secret.kms_key_id,
            "Tags": _tags(secret.tags),
        }
    )


def _secrets(account: str, region: str) -> list[tuple[str, Properties]]:
    arns = [s.arn for s in secretsmanager_backends[account][region].secrets.values() if not getattr(s, "deleted_date", None)]
    return [(a, p) for a in arns if (p := _secret(account, region, a)) is not None]


# ----- AWS::CloudWatch::Alarm -----------------------------------------------------


def _alarm(account: str, region: str, name: str) -> Properties | None:
    alarm = cloudwatch_backends[account][region].alarms.get(name)
    if alarm is None:
        return None
    return _drop_empty(
        {
            "AlarmName": alarm.name,
            "Arn": alarm.alarm_arn,
            "AlarmDescription": alarm.description,
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "Statistic": alarm.statistic,
            "ExtendedStatistic": alarm.extended_statistic,
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.datapoints_to_alarm,
            "Threshold": float(alarm.threshold) if alarm.threshold is not None else None,
            "ComparisonOperator": alarm.comparison_operator,
            "TreatMissingData": alarm.treat_missing_data,
            "Unit": alarm.unit,
            "ActionsEnabled": bool(alarm.actions_enabled),
            "AlarmActions": list(alarm.alarm_actions or []),
            "OKActions": list(alarm.ok_actions or []),
            "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
            "Dimensions": [{"Name": d.name, "Value": d.value} for d in alarm.dimensions or []],
        }
    )


def _alarms(account: str, region: str) -> list[tuple[str, Properties]]:
    names = list(cloudwatch_backends[account][region].alarms)
    return [(n, p) for n in names if (p := _alarm(account, region, n)) is not None]


# ----- AWS::IAM::Role -------------------------------------------------------------


def _role(account: str, region: str, name: str) -> Properties | None:
    backend = iam_backends[account]["aws"]
    role = next((r for r in backend.roles.values() if r.name == name), None)
    if role is None:
        return None
    document = role.assume_role_policy_document
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            pass
    return _drop_empty(
        {
            "RoleName": role.name,
            "Arn": role.arn,
            "RoleId": role.id,
            "Path": role.path,
            "Description": role.description,
            "MaxSessionDuration": role.max_session_duration,
            "AssumeRolePolicyDocument": document,
            "ManagedPolicyArns": sorted(role.managed_policies),
            "Policies": [
                {"PolicyName": n, "PolicyDocument": json.loads(d) if isinstance(d, str) else d}
                for n, d in sorted(role.policies.items())
            ],
            "Tags": _tags(list(role.tags.values()) if isinstance(role.tags, dict) else role.tags),
        }
    )


def _roles(account: str, region: str) -> list[tuple[str, Properties]]:
    names = [r.name for r in iam_backends[account]["aws"].roles.values()]
    return [(n, {"RoleName": n}) for n in names]


# Handler permissions are the registry schemas' `handlers.read` / `handlers.list`
# (CloudFormation's published schemas, 2025-2026), exactly as written there.
TYPES: dict[str, ResourceType] = {
    "AWS::S3::Bucket": ResourceType(
        _bucket,
        _buckets,
        (
            "s3:GetAccelerateConfiguration",
            "s3:GetLifecycleConfiguration",
            "s3:GetBucketPublicAccessBlock",
            "s3:GetAnalyticsConfiguration",
            "s3:GetBucketCORS",
            "s3:GetEncryptionConfiguration",
            "s3:GetInventoryConfiguration",
            "s3:GetBucketLogging",
            "s3:GetMetricsConfiguration",
            "s3:GetBucketNotification",
            "s3:GetBucketVersioning",
            "s3:GetReplicationConfiguration",
            "S3:GetBucketWebsite",
            "s3:GetBucketPublicAccessBlock",
            "s3:GetBucketObjectLockConfiguration",
            "s3:GetBucketTagging",
            "s3:ListTagsForResource",
            "s3:GetBucketAbac",
            "s3:GetBucketOwnershipControls",
            "s3:GetIntelligentTieringConfiguration",
            "s3:GetBucketMetadataTableConfiguration",
            "s3:ListBucket",
        ),
        ("s3:ListAllMyBuckets",),
    ),
    "AWS::DynamoDB::Table": ResourceType(
        _table,
        _tables,
        (
            "dynamodb:DescribeTable",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:DescribeContributorInsights",
            "dynamodb:DescribeKinesisStreamingDestination",
            "dynamodb:ListTagsOfResource",
            "dynamodb:GetResourcePolicy",
            "dynamodb:DescribeTimeToLive",
        ),
        ("dynamodb:ListTables",),
    ),
    "AWS::SSM::Parameter": ResourceType(
        _parameter, _parameters, ("ssm:GetParameters", "ssm:ListTagsForResource"), ("ssm:DescribeParameters",)
    ),
    "AWS::SQS::Queue": ResourceType(
        _queue, _queues, ("sqs:GetQueueAttributes", "sqs:ListQueueTags"), ("sqs:ListQueues",)
    ),
    "AWS::Logs::LogGroup": ResourceType(
        _log_group,
        _log_groups,
        (
            "logs:DescribeLogGroups",
            "logs:ListTagsForResource",
            "logs:GetDataProtectionPolicy",
            "logs:DescribeIndexPolicies",
            "logs:DescribeResourcePolicies",
        ),
        ("logs:DescribeLogGroups", "logs:ListTagsForResource"),
    ),
    "AWS::ECR::Repository": ResourceType(
        _repository,
        _repositories,
        ("ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource"),
        ("ecr:DescribeRepositories",),
    ),
    "AWS::SecretsManager::Secret": ResourceType(
        _secret, _secrets, ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"), ("secretsmanager:ListSecrets",)
    ),
    "AWS::CloudWatch::Alarm": ResourceType(
        _alarm, _alarms, ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"), ("cloudwatch:DescribeAlarms",)
    ),
    "AWS::IAM::Role": ResourceType(
        _role,
        _roles,
        ("iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy"),
        ("iam:ListRoles",),
    ),
}


# ----- the API --------------------------------------------------------------------


class CloudControlError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _json(status: int, body: Any) -> Response:
    return (
        status,
        [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", "cloud-control-emulator")],
        json.dumps(body).encode(),
    )


def _error(e: CloudControlError) -> Response:
    return _json(e.status, {"__type": e.code, "Message": e.message})


def _enforcing() -> bool:
    return settings.INITIAL_NO_AUTH_ACTION_COUNT == 0


def _authorize(environ: dict[str, Any], account: str, region: str, body: bytes, action: str, type_name: str, handler: tuple[str, ...]) -> None:
    """AccessDeniedException unless the caller may call `action` and, as the type's handler
    runs with the caller's credentials, every one of the handler's permissions (each on
    `*`: moto matches every Resource against `*`). Messages as AWS words them."""
    headers = {"Authorization": environ.get("HTTP_AUTHORIZATION", "")}
    if "HTTP_X_AMZ_SECURITY_TOKEN" in environ:
        headers["X-Amz-Security-Token"] = environ["HTTP_X_AMZ_SECURITY_TOKEN"]
    access_key = headers["Authorization"].split("Credential=", 1)[-1].split("/", 1)[0]
    if not _enforcing() or is_root_access_key(access_key):
        return
    for needed in (action, *handler):
        # IAM action names are case-insensitive; moto's matching is not.
        prefix, name = needed.split(":", 1)
        needed = f"{prefix.lower()}:{name}"
        try:
            request = IAMRequest(account, "POST", "/", {}, body, headers, name)
        except InvalidClientTokenIdError:
            raise CloudControlError("UnrecognizedClientException", "The security token included in the request is invalid.") from None
        request._action = needed
        try:
            request.check_action_permitted("*")
        except AccessDeniedError:
            user = request._access_key.arn
            if needed == action:
                raise CloudControlError(
                    "com.amazon.coral.service#AccessDeniedException",
                    f"User: {user} is not authorized to perform: {action} on resource: "
                    f"arn:aws:cloudformation:{region}:{account}:resource/* because no identity-based policy allows the {action} action",
                ) from None
            raise CloudControlError(
                "AccessDeniedException",
                f"{type_name} Handler returned status FAILED: User: {user} is not authorized to perform: {needed} "
                f"(Service: {prefix.upper()}, Status Code: 403) (HandlerErrorCode: AccessDenied, RequestToken: {uuid.uuid4()})",
            ) from None


def answer(action: str, account: str, region: str, environ: dict[str, Any], body: bytes) -> Response:
    """The answer to one Cloud Control call."""
    try:
        request = json.loads(body or b"{}")
        if not isinstance(request, dict):
            raise ValueError
    except ValueError:
        return _error(CloudControlError("ValidationException", "the request body is not a JSON object"))
    try:
        if action == "GetResource":
            return _get(request, account, region, environ, body)
        if action == "ListResources":
            return _list(request, account, region, environ, body)
        raise CloudControlError(
            "UnknownOperationException", f"the emulator's Cloud Control answers GetResource and ListResources, not {action}"
        )
    except CloudControlError as e:
        return _error(e)


def _type_of(request: dict[str, Any]) -> tuple[str, ResourceType]:
    name = request.get("TypeName")
    if not isinstance(name, str) or not name:
        raise CloudControlError("ValidationException", "1 validation error detected: Value at 'typeName' failed to satisfy constraint: Member must not be null")
    kind = TYPES.get(name)
    if kind is None:
        raise CloudControlError(
            "TypeNotFoundException",
            f"The type {name} cannot be found (the emulator models {', '.join(sorted(TYPES))})",
            status=404,
        )
    return name, kind


def _get(request: dict[str, Any], account: str, region: str, environ: dict[str, Any], body: bytes) -> Response:
    name, kind = _type_of(request)
    identifier = request.get("Identifier")
    if not isinstance(identifier, str) or not identifier:
        raise CloudControlError("ValidationException", "1 validation error detected: Value at 'identifier' failed to satisfy constraint: Member must not be null")
    _authorize(environ, account, region, body, "cloudformation:GetResource", name, kind.read_permissions)
    properties = kind.read(account, region, identifier)
    if properties is None:
        # AWS answers 400 here, though its model says 404.
        raise CloudControlError(
            "com.amazon.cloudapiservice#ResourceNotFoundException",
            f"{name} Handler returned status FAILED: Resource of type '{name}' with identifier '{identifier}' was not found. "
            f"(HandlerErrorCode: NotFound, RequestToken: {uuid.uuid4()})",
        )
    return _json(200, {"TypeName": name, "ResourceDescription": {"Identifier": identifier, "Properties": json.dumps(properties)}})


def _list(request: dict[str, Any], account: str, region: str, environ: dict[str, Any], body: bytes) -> Response:
    name, kind = _type_of(request)
    max_results = request.get("MaxResults")
    if max_results is not None and (not isinstance(max_results, int) or not 1 <= max_results <= LIST_PAGE.maximum):
        raise CloudControlError("ValidationException", f"MaxResults must be from 1 to {LIST_PAGE.maximum}")
    _authorize(environ, account, region, body, "cloudformation:ListResources", name, kind.list_permissions)
    items = kind.list(account, region)
    size = page_size(None, LIST_PAGE, SETTINGS.max_page_size(account))
    try:
        page, token = cut_page(items, lambda item: item[0], size, request.get("NextToken"))
    except InvalidToken:
        raise CloudControlError("InvalidRequestException", "the NextToken is not one this API issued") from None
    answer: dict[str, Any] = {
        "TypeName": name,
        "ResourceDescriptions": [{"Identifier": i, "Properties": json.dumps(p)} for i, p in page],
    }
    if token:
        answer["NextToken"] = token
    return _json(200, answer)

"""The WSGI middleware between the HTTP server and moto.

Requests to `/_emulator/` are the emulator's control API (per-account settings,
see `control_api`): no latency, no throttling, never logged. For every AWS API call
(anything but those and moto's own `/moto-api/` paths) it, in order:

1. sleeps the account's `latency_ms`, else `--latency-ms` (in the request's own
   thread, so calls overlap);
2. answers a `--throttle-rate` share of calls with the service's real throttling
   error, without reaching moto;
   then answers ECS ListServiceDeployments with UnknownOperationException for an
   account whose `service_deployments_api` is false (an endpoint without it);
3. denies regional services outside the account's `allowed_regions`, as a
   region-denying SCP does;
4. with `--strict-assume-role`, refuses AssumeRole into a role that does not exist
   or whose trust policy does not name the caller;
5. answers Cloud Control's GetResource and ListResources from moto's backends
   (cloud_control.py: moto has none);
   refuses EC2 DeleteSecurityGroup while an ENI still uses the group, as AWS does;
6. runs the call in moto, under the backend lock for the services the ECS
   scheduler touches, reconciling ECS before reads and after writes (and first
   deleting the lingering ENIs whose `eni_release_seconds` are over), and opening
   or closing load balancer listeners after ELB writes;
7. reshapes moto's generic XML auth errors into what each service really returns;
8. appends one JSON line to `--request-log`.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from html import escape, unescape
from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import parse_qsl, unquote

from moto.ec2.models import ec2_backends
from moto.ecs.models import ecs_backends
from moto.iam.models import get_account_id_from
from moto.sts.models import sts_backends

import cloud_control
from account_settings import SETTINGS, SettingsError
from ecs_scheduler import EcsScheduler
from moto_patches import find_role

# Services whose moto backends the scheduler reads or changes; their calls run
# under the backend lock so moto never sees a half-updated task, ENI or target
# group (Application Auto Scaling reads ECS services).
LOCKED_SERVICES = {"ecs", "ec2", "logs", "elasticloadbalancing", "application-autoscaling"}

# Signing names of unsigned JSON calls, by X-Amz-Target prefix.
TARGET_PREFIX_SERVICES = {
    "AmazonEC2ContainerServiceV20141113": "ecs",
    "Logs_20140328": "logs",
}

# Services without regions: an SCP that denies regions exempts them (and the
# course's accounts must reach IAM and STS whatever their region rules).
GLOBAL_SERVICES = {
    "iam",
    "sts",
    "organizations",
    "route53",
    "cloudfront",
    "support",
    "budgets",
    "ce",
    "health",
    "globalaccelerator",
    "shield",
    "waf",
}

# The control API: `/_emulator/accounts/<ACCOUNT_ID>/settings`.
CONTROL_PREFIX = "/_emulator/"
SETTINGS_PATH = re.compile(r"^/_emulator/accounts/(\d{12})/settings/?$")

# moto's auth errors carry IAM's codes; JSON services name them differently.
JSON_ERROR_CODES = {
    "AccessDenied": "AccessDeniedException",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
}

Headers = list[tuple[str, str]]
Response = tuple[int, Headers, bytes]


@dataclass
class MiddlewareOptions:
    latency_ms: float = 0.0
    throttle_rate: float = 0.0
    request_log: str | None = None
    strict_assume_role: bool = False


@dataclass
class ApiCall:
    """What the emulator needs to know about one request, read before moto sees it."""

    service: str
    region: str
    access_key: str
    action: str
    json_protocol: bool
    params: dict[str, str] = field(default_factory=dict)
    account_id: str = ""
    throttled: bool = False  # answered with throttling (said in the request log)


def read_api_call(environ: dict[str, Any]) -> ApiCall | None:
    """Describe an AWS API request, or None for moto's own endpoints."""
    path = environ.get("PATH_INFO", "")
    if path.startswith("/moto-api") or path == "/favicon.ico":
        return None
    access_key, region, service = credential_scope(environ.get("HTTP_AUTHORIZATION", ""))
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if not service and target:
        service = TARGET_PREFIX_SERVICES.get(target.split(".")[0], "unknown")
    params = query_params(environ)
    action = target.split(".")[-1] if target else params.get("Action", "")
    content_type = environ.get("CONTENT_TYPE", "")
    return ApiCall(
        service=service or "unknown",
        region=region,
        access_key=access_key,
        action=action,
        json_protocol=bool(target) or "amz-json" in content_type,
        params=params,
    )


def credential_scope(authorization: str) -> tuple[str, str, str]:
    """(access key, region, service) from `Credential=AKID/date/region/service/aws4_request`."""
    match = re.search(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request", authorization)
    if not match:
        return "", "", ""
    return match.group(1), match.group(2), match.group(3).lower()


def query_params(environ: dict[str, Any]) -> dict[str, str]:
    """Query-string and form-body parameters; the body is put back for moto."""
    params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        body = read_body(environ)
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = BytesIO(body)
    return body


def account_of(environ: dict[str, Any], access_key: str) -> str:
    """The account moto will act in, resolved the way moto resolves it."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    return environ.get("HTTP_X_MOTO_ACCOUNT_ID") or get_account_id_from(access_key)


# ----- error bodies each service really sends -------------------------------------


def request_id() -> str:
    return str(uuid.uuid4())


def json_error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"__type": code, "message": message}).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", request_id()),
    ]
    return status, headers, body


def ec2_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"</Error></Errors><RequestID>{request_id()}</RequestID></Response>"
    ).encode()
    return status, [("Content-Type", "text/xml;charset=UTF-8")], body


def query_error(status: int, code: str, message: str) -> Response:
    """IAM and STS errors: `<ErrorResponse><Error>` with a Type."""
    rid = request_id()
    body = (
        "<ErrorResponse><Error><Type>Sender</Type>"
        f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{rid}</RequestId></ErrorResponse>"
    ).encode()
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body


def unknown_operation_error() -> Response:
    """What a JSON service answers for an operation it does not offer (no message)."""
    body = json.dumps({"__type": "UnknownOperationException"}).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", request_id()),
    ]
    return 400, headers, body


def throttling_error(call: ApiCall) -> Response:
    if call.service == "ec2":
        return ec2_error(503, "RequestLimitExceeded", "Request limit exceeded.")
    if call.json_protocol:
        return json_error(400, "ThrottlingException", "Rate exceeded")
    return query_error(400, "Throttling", "Rate exceeded")


MOTO_XML_ERROR = re.compile(rb"<Code>(.*?)</Code>\s*<Message>(.*?)</Message>", re.S)


def reshape_moto_auth_error(call: ApiCall, status: int, body: bytes) -> Response | None:
    """Rewrite moto's generic `<ErrorResponse><Errors>` auth errors (IAM enforcement).

    moto sends the same IAM-style XML for every service; SDKs of JSON services and
    of EC2 cannot read it as the service's error, so the grader would see an
    unknown error instead of AccessDenied.
    """
    if status < 400 or b"<ErrorResponse" not in body[:200] or b"<Errors>" not in body:
        return None
    match = MOTO_XML_ERROR.search(body)
    if not match:
        return None
    code = unescape(match.group(1).decode())
    message = unescape(match.group(2).decode())
    if call.json_protocol:
        return json_error(400, JSON_ERROR_CODES.get(code, code), message)
    if call.service == "ec2":
        if code == "AccessDenied":
            return ec2_error(
                403,
                "UnauthorizedOperation",
                f"You are not authorized to perform this operation. {message}",
            )
        return ec2_error(status, code, message)
    return query_error(status, code, message)


# ----- the middleware ---------------------------------------------------------------


class RequestLog:
    """One JSON line per API call, flushed at once (never a secret in it)."""

    def __init__(self, path: str):
        self._file = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, call: ApiCall, status: int) -> None:
        line = json.dumps(
            {
                "time": time.time(),
                "account": call.account_id,
                "region": call.region,
                "service": call.service,
                "action": call.action,
                "status": status,
                **({"throttled": True} if call.throttled else {}),
            }
        )
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()


class ApiMiddleware:
    def __init__(
        self,
        moto_app: Callable[..., Iterable[bytes]],
        scheduler: EcsScheduler,
        options: MiddlewareOptions,
    ):
        self.moto_app = moto_app
        self.scheduler = scheduler
        self.options = options
        self.request_log = RequestLog(options.request_log) if options.request_log else None
        self._random = random.Random()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX):
            status, headers, body = control_api(environ)
            headers.append(("Content-Length", str(len(body))))
            start_response(f"{status} {reason_phrase(status)}", headers)
            return [body]
        call = read_api_call(environ)
        if call is None:
            return self.moto_app(environ, start_response)
        call.account_id = account_of(environ, call.access_key)
        latency_ms = SETTINGS.latency_ms(call.account_id)
        latency_ms = self.options.latency_ms if latency_ms is None else latency_ms
        if latency_ms > 0:
            time.sleep(latency_ms / 1000.0)
        status, headers, body = self.answer(call, environ)
        if self.request_log is not None:
            self.request_log.write(call, status)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {reason_phrase(status)}", headers)
        return [body]

    def answer(self, call: ApiCall, environ: dict[str, Any]) -> Response:
        rate = SETTINGS.throttle_rate(call.account_id)
        if SETTINGS.take_throttled_call(call.account_id) or self._random.random() < (
            self.options.throttle_rate if rate is None else rate
        ):
            call.throttled = True
            return throttling_error(call)
        if (
            call.service == "ecs"
            and call.action == "ListServiceDeployments"
            and not SETTINGS.service_deployments_api(call.account_id)
        ):
            # An endpoint (an older region, another partition) without the
            # service deployments API: the grader must fall back to the events.
            return unknown_operation_error()
        denial = region_denial(call)
        if denial is not None:
            return denial
        if (
            self.options.strict_assume_role
            and call.service == "sts"
            and call.action == "AssumeRole"
        ):
            denial = self.refuse_unknown_role(call)
            if denial is not None:
                return denial
        if call.service == "cloudcontrolapi":
            # moto has no Cloud Control: answered from its backends (cloud_control.py).
            return cloud_control.answer(call.action, call.account_id, call.region, environ, read_body(environ))
        locked = call.service in LOCKED_SERVICES
        with self.scheduler.lock if locked else nullcontext():
            if locked:
                self.scheduler.runtimes.release_due_enis()
            if call.service == "ecs" and call.action == "DeleteCluster":
                refusal = cluster_still_in_use(call, environ)
                if refusal is not None:
                    return refusal
            if call.service == "ec2" and call.action == "DeleteSecurityGroup":
                in_use = security_group_in_use(call)
                if in_use:
                    return ec2_error(
                        400, "DependencyViolation", f"resource {in_use} has a dependent object"
                    )
            ecs_read = call.service == "ecs" and call.action.startswith(("Describe", "List"))
            if ecs_read:
                self.scheduler.reconcile_region(call.account_id, call.region)
            status, headers, body = self.call_moto(environ)
            if call.service == "ecs" and not ecs_read:
                self.scheduler.reconcile_region(call.account_id, call.region)
            if call.service == "elasticloadbalancing" and not call.action.startswith("Describe"):
                # A listener opens (or closes) before the answer reaches the caller.
                self.scheduler.balancers.sync_region(call.account_id, call.region)
        reshaped = reshape_moto_auth_error(call, status, body)
        return reshaped if reshaped is not None else (status, headers, body)

    def call_moto(self, environ: dict[str, Any]) -> Response:
        captured: dict[str, Any] = {}
        written: list[bytes] = []

        def start_response(
            status: str, headers: Headers, exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = list(headers)
            return written.append

        result = self.moto_app(environ, start_response)
        try:
            body = b"".join(written) + b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return captured["status"], captured["headers"], body

    def refuse_unknown_role(self, call: ApiCall) -> Response | None:
        """AccessDenied for AssumeRole into a role that is missing or does not trust the caller.

        moto lets anyone assume any ARN, and checks trust policies only within one
        account; the cohort audit needs accounts whose role "cannot be assumed".
        """
        role_arn = call.params.get("RoleArn", "")
        # AWS Organizations creates this role in every member account, trusting the
        # management account; tests use it to set up a class's accounts.
        if role_arn.endswith(":role/OrganizationAccountAccessRole"):
            return None
        caller = sts_backends[call.account_id]["aws"].get_caller_identity(
            call.access_key, call.region or "us-east-1"
        )[1]
        role = find_role(role_arn)
        if role is not None and trust_policy_allows(
            role.assume_role_policy_document, call.account_id, caller, call.params
        ):
            return None
        return query_error(
            403,
            "AccessDenied",
            f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
        )


def caller_arn(call: ApiCall) -> str:
    """The ARN AWS would name in an AccessDenied message for this caller."""
    try:
        return sts_backends[call.account_id]["aws"].get_caller_identity(
            call.access_key, call.region or "us-east-1"
        )[1]
    except Exception:
        return f"arn:aws:sts::{call.account_id}:assumed-role/OrganizationAccountAccessRole/session"


def region_denial(call: ApiCall) -> Response | None:
    """AccessDenied for a regional call outside the account's `allowed_regions`.

    Like an AWS Organizations SCP that denies every region but a few (the usual
    guard-rail of a course's accounts): the call fails before it reaches the
    service, in that service's error shape, and global services are exempt.
    """
    if not call.region or call.service in GLOBAL_SERVICES:
        return None
    allowed = SETTINGS.allowed_regions(call.account_id)
    if allowed is None or call.region in allowed:
        return None
    action = f"{call.service}:{call.action}"
    caller = caller_arn(call)
    if call.service == "ec2":
        # EC2 names no resource in these messages.
        return ec2_error(
            403,
            "UnauthorizedOperation",
            f"You are not authorized to perform this operation. User: {caller} is not "
            f"authorized to perform: {action} with an explicit deny in a service control policy",
        )
    message = (
        f"User: {caller} is not authorized to perform: {action} on resource: * "
        "with an explicit deny in a service control policy"
    )
    if call.json_protocol:
        return json_error(400, "AccessDeniedException", message)
    return query_error(403, "AccessDenied", message)


def control_api(environ: dict[str, Any]) -> Response:
    """The emulator's own endpoints, for tests: per-account settings.

    `GET /_emulator/accounts/<ACCOUNT_ID>/settings` returns the account's
    settings, `POST` merges a JSON object into them (and returns the result),
    `DELETE` forgets them. See account_settings.py for what each setting does.
    """
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET").upper()
    match = SETTINGS_PATH.match(path)
    if match is None:
        return control_answer(404, {"error": f"no control endpoint {path}"})
    account_id = match.group(1)
    if method == "GET":
        return control_answer(200, SETTINGS.get(account_id))
    if method == "DELETE":
        SETTINGS.reset(account_id)
        return control_answer(200, {})
    if method != "POST":
        return control_answer(405, {"error": f"{method} not allowed; use GET, POST or DELETE"})
    try:
        body = json.loads(read_body(environ) or b"{}")
        return control_answer(200, SETTINGS.merge(account_id, body))
    except (SettingsError, ValueError) as error:  # a bad setting, or bad JSON
        return control_answer(400, {"error": str(error)})


def control_answer(status: int, value: Any) -> Response:
    return status, [("Content-Type", "application/json")], json.dumps(value).encode()


def trust_policy_allows(
    document: str, caller_account: str, caller_arn: str, params: dict[str, str]
) -> bool:
    """Whether a role's trust policy lets the caller assume it.

    Covers what the course's roles use: Allow statements for `sts:AssumeRole`
    whose `Principal.AWS` names the caller's account (`ACCT` or its `:root` ARN),
    the caller's ARN, the role behind an assumed-role caller, or `*`, and the
    `sts:ExternalId` condition. Deny statements and other conditions are ignored.
    """
    try:
        policy = json.loads(unquote(document))
    except ValueError:
        return False
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    callers = {"*", caller_account, f"arn:aws:iam::{caller_account}:root", caller_arn}
    assumed = re.match(r"arn:aws:sts::(\d{12}):assumed-role/([^/]+)/", caller_arn)
    if assumed:
        callers.add(f"arn:aws:iam::{assumed.group(1)}:role/{assumed.group(2)}")
    for statement in statements:
        actions = as_list(statement.get("Action"))
        if statement.get("Effect") != "Allow" or not {"sts:AssumeRole", "sts:*", "*"} & set(
            actions
        ):
            continue
        principal = statement.get("Principal", {})
        principals = {"*"} if principal == "*" else set(as_list(principal.get("AWS")))
        if not principals & callers:
            continue
        external_ids = as_list(
            statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
        )
        if external_ids and params.get("ExternalId") not in external_ids:
            continue
        return True
    return False


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def cluster_still_in_use(call: ApiCall, environ: dict[str, Any]) -> Response | None:
    """AWS refuses DeleteCluster while the cluster has active services or running tasks;
    moto deletes it anyway, which would hide a forgotten service from cleanup checks."""
    try:
        cluster = json.loads(read_body(environ) or b"{}").get("cluster", "default")
    except ValueError:
        return None
    name = cluster.rsplit("/", 1)[-1]
    regions = dict.get(ecs_backends, call.account_id)
    backend = dict.get(regions, call.region) if regions is not None else None
    if backend is None:
        return None
    for service in list(backend.services.values()):
        if service.cluster_name == name and service.status in ("ACTIVE", "DRAINING"):
            return json_error(
                400, "ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active."
            )
    for task in list(backend.tasks.get(name, {}).values()):
        if task.last_status not in ("STOPPED", "DEPROVISIONING"):
            return json_error(
                400, "ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active."
            )
    return None


def security_group_in_use(call: ApiCall) -> str | None:
    """The id of the group DeleteSecurityGroup names, if an ENI still uses it."""
    regions = dict.get(ec2_backends, call.account_id)
    backend = dict.get(regions, call.region) if regions is not None else None
    if backend is None:
        return None
    group_id = call.params.get("GroupId")
    if not group_id and call.params.get("GroupName"):
        group = backend.get_security_group_from_name(call.params["GroupName"])
        group_id = group.id if group else None
    if not group_id:
        return None
    for eni in list(backend.enis.values()):
        if any(group.id == group_id for group in eni.group_set):
            return group_id
    return None


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"

"""The course's AWS emulator: moto's server plus what the Fargate lab needs.

Run from the repository root:

    .venv/bin/python tests/emulator/server.py --port P [--host 127.0.0.1]
        [--latency-ms N] [--throttle-rate R] [--request-log FILE]
        [--enforce-iam] [--strict-assume-role] [--verbose]
        [--max-page-size N] [--allowed-regions R1,R2] [--eni-release-seconds N]

It prints exactly `ready http://HOST:PORT` on stdout once it serves (`--port 0`
picks a free port) and exits cleanly on SIGTERM or SIGINT. What it adds to moto
lives beside this file: `ecs_scheduler.py` (service tasks), `task_runtime.py`
(public IPs, nginx responder, awslogs), `load_balancer.py` (target registration,
health checks, a proxy per ALB listener), `api_middleware.py` (latency, throttling,
request log, error shapes, control API), `moto_patches.py` (fixes to moto
itself), `pagination.py` (AWS-style pages), `service_deployments.py` (ECS's history of
service deployments, ListServiceDeployments), `scaling_activities.py` (auto scaling's
bounds moving a service, DescribeScalingActivities) and `account_settings.py` (per-account
awkwardness set through `/_emulator/accounts/<ACCOUNT_ID>/settings`).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time


class StopRequest:
    """A signal handler that only records the request.

    It must not take locks: a handler runs in the main thread between two
    bytecodes, possibly while that thread holds the very lock (threading.Event.set
    from a handler can deadlock that way).
    """

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: object) -> None:
        self.requested = True


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="sleep before every API call")
    parser.add_argument(
        "--throttle-rate",
        type=float,
        default=0.0,
        help="share (0..1) of API calls answered with the service's throttling error",
    )
    parser.add_argument("--request-log", help="append one JSON line per API call here")
    parser.add_argument(
        "--enforce-iam",
        action="store_true",
        help="check calls against IAM policies (unknown keys act as root)",
    )
    parser.add_argument(
        "--strict-assume-role",
        action="store_true",
        help="refuse AssumeRole into a missing role or one whose trust policy does not name the caller",
    )
    parser.add_argument("--verbose", action="store_true", help="log each HTTP request on stderr")
    parser.add_argument(
        "--max-page-size",
        type=int,
        help="cap every paged list answer at N items (an account's max_page_size wins)",
    )
    parser.add_argument(
        "--allowed-regions",
        help="comma-separated regions; regional services deny every other one, like an SCP",
    )
    parser.add_argument(
        "--eni-release-seconds",
        type=float,
        default=0.0,
        help="a stopped task's ENI lingers this long before it is deleted (AWS: about a minute)",
    )
    args = parser.parse_args(argv)
    if args.max_page_size is not None and args.max_page_size < 1:
        parser.error("--max-page-size must be at least 1")
    if args.eni_release_seconds < 0:
        parser.error("--eni-release-seconds must not be negative")
    if args.allowed_regions is not None:
        args.allowed_regions = [r.strip() for r in args.allowed_regions.split(",") if r.strip()]
    if not 0.0 <= args.throttle_rate <= 1.0:
        parser.error("--throttle-rate must be between 0 and 1")
    if args.latency_ms < 0:
        parser.error("--latency-ms must not be negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # moto copies its catalogue of public AMIs into every account's EC2 backend:
    # 0.2 s and megabytes per account, for nothing the course uses. A cohort test
    # reaches hundreds of accounts.
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    if args.enforce_iam:
        # Read by moto.settings at import; moto_patches.enforce_iam sets it too.
        os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    # werkzeug logs every request at INFO; a test that pipes stderr and never
    # reads it would otherwise fill the pipe and stall the server.
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.ERROR)

    # moto is imported only now, after the environment above is settled.
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    import cost_explorer
    import moto_patches
    import scaling_activities
    from account_settings import SETTINGS
    from api_middleware import ApiMiddleware, MiddlewareOptions
    from ecs_scheduler import EcsScheduler

    moto_patches.keep_ecs_tasks_in_their_status()
    moto_patches.tolerate_task_level_memory()
    moto_patches.default_security_groups()
    moto_patches.list_tasks_like_aws()
    moto_patches.describe_missing_tasks_as_failures()
    moto_patches.load_course_managed_policies()
    moto_patches.list_services_like_aws()
    moto_patches.creation_times_like_aws()
    moto_patches.describe_task_definition_like_aws()
    moto_patches.service_linked_role_like_aws()
    moto_patches.paginate_like_aws()
    moto_patches.configurable_describe_answers()
    moto_patches.deployment_configuration_like_aws()
    moto_patches.application_autoscaling_like_aws()
    scaling_activities.bounds_drive_desired_count()
    moto_patches.list_service_deployments()
    cost_explorer.per_account_costs()
    if args.enforce_iam:
        moto_patches.enforce_iam()

    SETTINGS.defaults.allowed_regions = args.allowed_regions
    SETTINGS.defaults.eni_release_seconds = args.eni_release_seconds
    SETTINGS.defaults.max_page_size = args.max_page_size

    scheduler = EcsScheduler(threading.RLock())
    scheduler.balancers.patch_moto()
    app = ApiMiddleware(
        DomainDispatcherApplication(create_backend_app),
        scheduler,
        MiddlewareOptions(
            latency_ms=args.latency_ms,
            throttle_rate=args.throttle_rate,
            request_log=args.request_log,
            strict_assume_role=args.strict_assume_role,
        ),
    )
    server = make_server(
        args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    port = server.server_address[1]
    # moto builds some URLs that point back at itself from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)

    stop = StopRequest()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)

    serving = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},  # how soon shutdown() is noticed
        name="http",
        daemon=True,
    )
    serving.start()
    scheduler.start_background()
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    print(f"ready http://{shown_host}:{port}", flush=True)

    while not stop.requested:
        time.sleep(0.1)
    server.shutdown()
    server.server_close()
    scheduler.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

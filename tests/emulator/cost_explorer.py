"""Cost Explorer's GetCostAndUsage answering from each account's recorded charges.

moto's own GetCostAndUsage answers nothing, or whatever one global queue holds for
the exact request body; a class audit needs each account's own costs. Tests give
an account its charges through the control API:

    POST /_emulator/accounts/<ACCOUNT_ID>/settings
    {"cost_and_usage": [{"date": "2026-11-03", "service": "Amazon Elastic Container Service", "usd": 1.25}, ...],
     "cost_explorer_enabled": true}

and GetCostAndUsage sums them as AWS does: into the requested granularity's
periods (MONTHLY: calendar months cut at Start and End; DAILY: days) within
[Start, End), grouped by SERVICE when asked (an empty `Total` then, as AWS
answers), each amount a decimal string in USD; a period reaching past today is
`Estimated`. ResultsByTime is paged by the account's `max_page_size` with a
NextPageToken. An account whose Cost Explorer is not enabled (a member account
the management account has not opened it to, or one where nobody ever opened it)
gets AWS's AccessDeniedException. Every request is still authorised by moto
first, so IAM enforcement covers `ce:GetCostAndUsage`.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from moto.ce.models import CostExplorerBackend
from moto.core.exceptions import JsonRESTError

from account_settings import SETTINGS
from pagination import InvalidToken, decode_token, encode_token

METRICS = {
    "AmortizedCost",
    "BlendedCost",
    "NetAmortizedCost",
    "NetUnblendedCost",
    "NormalizedUsageAmount",
    "UnblendedCost",
    "UsageQuantity",
}


class ValidationException(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("ValidationException", message)


class AccessDeniedException(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("AccessDeniedException", message)


def parse_date(text: Any, what: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValidationException(f"{what} date is invalid: {text!r} (YYYY-MM-DD)") from None


def periods(start: datetime.date, end: datetime.date, granularity: str) -> list[tuple[datetime.date, datetime.date]]:
    """The [start, end) slices AWS answers with."""
    cut: list[tuple[datetime.date, datetime.date]] = []
    day = start
    while day < end:
        if granularity == "DAILY":
            following = day + datetime.timedelta(days=1)
        else:
            following = (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
        following = min(following, end)
        cut.append((day, following))
        day = following
    return cut


def amount(usd: float) -> dict[str, str]:
    return {"Amount": f"{usd:.10f}".rstrip("0").rstrip(".") or "0", "Unit": "USD"}


def answer(account_id: str, request: dict[str, Any]) -> dict[str, Any]:
    if SETTINGS.cost_explorer_enabled(account_id) is False:
        raise AccessDeniedException("User not enabled for cost explorer access")
    period = request.get("TimePeriod") or {}
    start = parse_date(period.get("Start"), "Start")
    end = parse_date(period.get("End"), "End")
    if start >= end:
        raise ValidationException("Start date (inclusive) must be before end date (exclusive)")
    granularity = request.get("Granularity")
    if granularity not in ("DAILY", "MONTHLY"):
        raise ValidationException(f"Granularity {granularity!r} is not supported here: DAILY or MONTHLY")
    metrics = request.get("Metrics") or []
    if not metrics or any(m not in METRICS for m in metrics):
        raise ValidationException(f"Metrics must be given from {sorted(METRICS)}")
    group_by = request.get("GroupBy") or []
    if any(g != {"Type": "DIMENSION", "Key": "SERVICE"} for g in group_by):
        raise ValidationException("only GroupBy SERVICE (DIMENSION) is emulated")
    charges = SETTINGS.cost_and_usage(account_id)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    results = []
    for first, last in periods(start, end, granularity):
        by_service: dict[str, float] = {}
        for charge in charges:
            if first <= datetime.date.fromisoformat(charge["date"]) < last:
                by_service[charge["service"]] = by_service.get(charge["service"], 0.0) + charge["usd"]
        result: dict[str, Any] = {
            "TimePeriod": {"Start": first.isoformat(), "End": last.isoformat()},
            "Estimated": last > today,
        }
        if group_by:
            result["Total"] = {}
            result["Groups"] = [
                {"Keys": [service], "Metrics": {m: amount(usd) for m in metrics}}
                for service, usd in sorted(by_service.items())
            ]
        else:
            result["Total"] = {m: amount(sum(by_service.values())) for m in metrics}
            result["Groups"] = []
        results.append(result)
    first_index = 0
    token = request.get("NextPageToken")
    if token:
        try:
            first_index = int(decode_token(token))
        except (InvalidToken, ValueError):
            raise ValidationException("Invalid NextPageToken") from None
    size = SETTINGS.max_page_size(account_id) or len(results) or 1
    page = results[first_index : first_index + size]
    reply: dict[str, Any] = {
        "GroupDefinitions": group_by,
        "ResultsByTime": page,
        "DimensionValueAttributes": [],
    }
    if first_index + size < len(results):
        reply["NextPageToken"] = encode_token(first_index + size)
    return reply


def per_account_costs() -> None:
    """Install the behaviour above on moto's Cost Explorer backend."""

    def get_cost_and_usage(self: Any, body: str) -> dict[str, Any]:
        try:
            request = json.loads(body or "{}")
        except ValueError:
            raise ValidationException("the request body is not JSON") from None
        return answer(self.account_id, request)

    CostExplorerBackend.get_cost_and_usage = get_cost_and_usage

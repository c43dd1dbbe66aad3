"""Per-account awkwardness that tests switch on through the control API.

Tests share one emulator per test binary and keep apart by account, so whatever
makes the emulator behave like a less friendly AWS (a region-denying SCP, slow ENI
release, short pages, odd DescribeClusters answers, clients that security groups
keep out, an ECS endpoint without ListServiceDeployments) is set per account:
`POST /_emulator/accounts/<ACCOUNT_ID>/settings` merges a JSON object into the
account's settings (see `api_middleware.control_api`). Server flags give the
defaults for every account; an account's own setting wins.

The settings are emulator configuration, not moto state: they survive
`/moto-api/reset`. `DELETE` on the same path forgets one account's settings.
"""

from __future__ import annotations

import copy
import datetime
import ipaddress
import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class Defaults:
    """What the server flags set for every account."""

    allowed_regions: list[str] | None = None  # --allowed-regions
    eni_release_seconds: float = 0.0  # --eni-release-seconds
    max_page_size: int | None = None  # --max-page-size


class SettingsError(ValueError):
    """A settings body the control API refuses (answered with HTTP 400)."""


def _validate(key: str, value: Any) -> None:
    """Refuse values of the wrong shape now, not deep inside a later API call."""
    if value is None:
        return  # null removes the key
    if key == "allowed_regions":
        if not isinstance(value, list) or not all(isinstance(r, str) and r for r in value):
            raise SettingsError("allowed_regions must be a list of region names")
    elif key == "eni_release_seconds":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise SettingsError("eni_release_seconds must be a number >= 0")
    elif key == "max_page_size":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SettingsError("max_page_size must be an integer >= 1")
    elif key == "describe_failures":
        if not isinstance(value, dict) or set(value) - {"clusters", "services"}:
            raise SettingsError('describe_failures must be {"clusters": {...}, "services": {...}}')
        for kind, reasons in value.items():
            _validate_name_map(f"describe_failures.{kind}", reasons)
    elif key == "cluster_status":
        _validate_name_map("cluster_status", value)
    elif key == "load_balancer_state":
        _validate_name_map("load_balancer_state", value)
    elif key in ("creates_service_linked_role", "service_deployments_api"):
        if not isinstance(value, bool):
            raise SettingsError(f"{key} must be true or false")
    elif key == "throttle_rate":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise SettingsError("throttle_rate must be a number from 0 to 1")
    elif key == "throttle_calls":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SettingsError("throttle_calls must be an integer >= 0")
    elif key == "latency_ms":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 60_000:
            raise SettingsError("latency_ms must be a number of milliseconds from 0 to 60000")
    elif key == "cost_explorer_enabled":
        if not isinstance(value, bool):
            raise SettingsError(f"{key} must be true or false")
    elif key == "cost_and_usage":
        # What the account was charged, day by day (cost_explorer.py sums it).
        if not isinstance(value, list):
            raise SettingsError("cost_and_usage must be a list of charges")
        for charge in value:
            if (
                not isinstance(charge, dict)
                or set(charge) != {"date", "service", "usd"}
                or not isinstance(charge["service"], str)
                or isinstance(charge["usd"], bool)
                or not isinstance(charge["usd"], (int, float))
            ):
                raise SettingsError(
                    'each cost_and_usage charge is {"date": "YYYY-MM-DD", "service": "...", "usd": 1.25}'
                )
            try:
                datetime.date.fromisoformat(charge["date"])
            except (TypeError, ValueError):
                raise SettingsError(f"cost_and_usage date {charge['date']!r} is not YYYY-MM-DD") from None
    elif key == "client_address":
        # Security groups are judged against it (security_groups.py), so it must be
        # an address a CIDR can contain.
        try:
            ipaddress.IPv4Address(value if isinstance(value, str) else "")
        except ValueError:
            raise SettingsError("client_address must be an IPv4 address such as 203.0.113.10") from None
    else:
        raise SettingsError(
            f"unknown setting {key!r}; known: allowed_regions, eni_release_seconds, "
            "describe_failures, cluster_status, max_page_size, creates_service_linked_role, "
            "client_address, service_deployments_api, load_balancer_state, throttle_rate, "
            "cost_and_usage, cost_explorer_enabled, throttle_calls, latency_ms"
        )


def _validate_name_map(what: str, value: Any) -> None:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise SettingsError(f"{what} must map names to strings")


class AccountSettings:
    """The settings of every account, read by the middleware, patches and runtime.

    Reads happen on every API call, so they take a plain lock of their own (never
    the backend lock, which a caller may already hold).
    """

    def __init__(self) -> None:
        self.defaults = Defaults()
        self._lock = threading.Lock()
        self._by_account: dict[str, dict[str, Any]] = {}

    # ----- the control API ------------------------------------------------------

    def get(self, account_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._by_account.get(account_id, {}))

    def merge(self, account_id: str, body: Any) -> dict[str, Any]:
        """Merge top-level keys into the account's settings; a null value removes one.

        A key's value replaces the old one whole (so `describe_failures` given
        again replaces both of its maps). Nothing changes if any key is invalid.
        """
        if not isinstance(body, dict):
            raise SettingsError("the body must be a JSON object")
        for key, value in body.items():
            _validate(key, value)
        with self._lock:
            settings = self._by_account.setdefault(account_id, {})
            for key, value in body.items():
                if value is None:
                    settings.pop(key, None)
                else:
                    settings[key] = copy.deepcopy(value)
            return copy.deepcopy(settings)

    def reset(self, account_id: str) -> None:
        with self._lock:
            self._by_account.pop(account_id, None)

    # ----- what the emulator reads ----------------------------------------------

    def _value(self, account_id: str, key: str) -> Any:
        with self._lock:
            settings = self._by_account.get(account_id)
            if settings is not None and key in settings:
                return settings[key]
        return getattr(self.defaults, key, None)

    def allowed_regions(self, account_id: str) -> list[str] | None:
        """The only regions regional services answer in, or None for all."""
        return self._value(account_id, "allowed_regions")

    def latency_ms(self, account_id: str) -> float | None:
        """How long each of this account's calls waits before it is answered (None: the
        server's `--latency-ms`): an AWS that is slow for one account's region or endpoint."""
        return self._value(account_id, "latency_ms")

    def throttle_rate(self, account_id: str) -> float | None:
        """The share of this account's calls answered with throttling (None: the server's)."""
        return self._value(account_id, "throttle_rate")

    def take_throttled_call(self, account_id: str) -> bool:
        """Whether this call is one of the account's `throttle_calls` (counting it down)."""
        with self._lock:
            settings = self._by_account.get(account_id)
            left = settings.get("throttle_calls", 0) if settings is not None else 0
            if left <= 0:
                return False
            settings["throttle_calls"] = left - 1
            return True

    def eni_release_seconds(self, account_id: str) -> float:
        return float(self._value(account_id, "eni_release_seconds") or 0.0)

    def max_page_size(self, account_id: str) -> int | None:
        return self._value(account_id, "max_page_size")

    def describe_failure(self, account_id: str, kind: str, name: str) -> str | None:
        """The failure reason configured for a cluster or service name, if any."""
        failures = self._value(account_id, "describe_failures") or {}
        return (failures.get(kind) or {}).get(name)

    def cluster_status(self, account_id: str, name: str) -> str | None:
        return (self._value(account_id, "cluster_status") or {}).get(name)

    def load_balancer_state(self, account_id: str, name: str) -> str | None:
        return (self._value(account_id, "load_balancer_state") or {}).get(name)

    def creates_service_linked_role(self, account_id: str) -> bool:
        """Whether CreateCluster may create ECS's service-linked role (false: a caller
        without iam:CreateServiceLinkedRole)."""
        return self._value(account_id, "creates_service_linked_role") is not False

    def service_deployments_api(self, account_id: str) -> bool:
        """Whether ECS offers ListServiceDeployments to the account (false: it answers
        UnknownOperationException, as an endpoint without the API does)."""
        return self._value(account_id, "service_deployments_api") is not False

    def cost_and_usage(self, account_id: str) -> list[dict[str, Any]]:
        """The account's charges, day by day (none unless a test gave some)."""
        return list(self._value(account_id, "cost_and_usage") or [])

    def cost_explorer_enabled(self, account_id: str) -> bool:
        """Whether Cost Explorer answers the account (false: AccessDeniedException)."""
        return self._value(account_id, "cost_explorer_enabled") is not False

    def client_address(self, account_id: str) -> str | None:
        """The public address the account's HTTP clients appear to come from, or None:
        then security groups filter nothing (the responders answer every client)."""
        return self._value(account_id, "client_address")


# The one registry of the process: server.py sets its defaults from the flags.
SETTINGS = AccountSettings()

"""Part 4 of scripts/bench: what one AWS call costs the grader's process in CPU, against a
canned endpoint instead of moto, so that the caller's own cost is all that is measured.

`call-floor` (scripts/bench-tools/call_floor.rs, an example target built here with
`cargo build --release --example call-floor`) makes the class audit's kinds of SDK call and
the same ECS call without the SDK (reqwest and SigV4, the least any client must do), one at
a time and 32 at a time, against `canned_aws.py` answering at once and after the class
audit's 20 ms. Its figures bound what the class audit's CPU per account can become: calls
per account times the cheapest call.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = ROOT / "scripts" / "bench-tools"
# Where `cargo build --release --example call-floor` leaves it (cargo's own CARGO_TARGET_DIR, if set).
EXAMPLE = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target").resolve() / "release" / "examples" / "call-floor"
SDK_ECS = "sdk ecs:DescribeClusters"
MINIMAL_ECS = "minimal ecs:DescribeClusters (reqwest + SigV4, no SDK)"
CONCURRENT = 32


class FloorError(RuntimeError):
    """call-floor could not be built or run."""


@dataclass
class Floor:
    calls: int
    latencies_ms: list[int]
    # (what, in_flight, latency_ms) -> (CPU µs per call, wall µs per call or None)
    figures: dict[tuple[str, int, int], tuple[float, float | None]] = field(default_factory=dict)

    def cpu_us(self, what: str, in_flight: int, latency_ms: int) -> float:
        return self.figures[(what, in_flight, latency_ms)][0]


def build(log) -> Path:
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    log("building call-floor (cargo build --release --example call-floor)")
    done = subprocess.run([cargo, "build", "--release", "--example", "call-floor"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0 or not EXAMPLE.is_file():
        raise FloorError(f"cargo build --release --example call-floor failed:\n{done.stderr[-2000:]}")
    return EXAMPLE


def bench_floor(calls: int, latencies_ms: list[int], env: dict[str, str], python: str, log) -> Floor:
    """Runs call-floor against a canned endpoint at each latency, one after the other."""
    example = build(log)
    floor = Floor(calls, latencies_ms)
    for latency in latencies_ms:
        log(f"call floor: {calls} calls of each kind against a canned endpoint answering after {latency} ms")
        endpoint = subprocess.Popen(
            [python, str(TOOLS_DIR / "canned_aws.py"), "0", str(latency)], stdout=subprocess.PIPE, text=True, env=env
        )
        try:
            first_line = endpoint.stdout.readline()
            if not first_line.strip().isdigit():
                raise FloorError(f"canned_aws.py did not start (it printed {first_line!r} instead of its port)")
            port = int(first_line)
            child_env = {
                **env,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_EC2_METADATA_DISABLED": "true",
            }
            done = subprocess.run(
                [str(example), f"http://127.0.0.1:{port}", str(calls)], env=child_env, capture_output=True, text=True
            )
            if done.returncode != 0:
                raise FloorError(f"call-floor failed at {latency} ms:\n{done.stderr[-2000:]}")
            for line in done.stdout.splitlines():
                row = json.loads(line)
                floor.figures[(row["what"], row["in_flight"], latency)] = (row["cpu_us"], row["wall_us"])
        finally:
            endpoint.kill()
            endpoint.wait()
    return floor


def fmt_us(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.2f} ms" if value >= 1000 else f"{value:.0f} µs"


def floor_section(floor: Floor, calls_per_account: float | None) -> list[str]:
    columns = [(latency, in_flight) for latency in floor.latencies_ms for in_flight in (1, CONCURRENT)]
    whats = list(dict.fromkeys(what for what, _, _ in floor.figures))
    out = [
        "",
        "## One AWS call's CPU, against a canned endpoint",
        "",
        f"`call-floor` (`scripts/bench-tools/call_floor.rs`, built with `cargo build --release --example call-floor`) "
        f"made {floor.calls:,} calls of each kind against `canned_aws.py`, a loopback endpoint that answers with fixed "
        "bodies and keeps connections alive, so the caller's CPU is all that is measured. The SDK clients are configured "
        "as the grader configures them (`grader::aws::load_config`), on a current-thread runtime as in `grader cohort`. "
        "The minimal call is the same ECS request signed with SigV4 and sent through reqwest, with no SDK: the least any "
        "client must do. CPU per call (wall per call):",
        "",
        "| call | " + " | ".join(f"answer after {latency} ms, {n} in flight" for latency, n in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for what in whats:
        cells = []
        for latency, in_flight in columns:
            cpu, wall = floor.figures.get((what, in_flight, latency), (None, None))
            cells.append(fmt_us(cpu) if wall is None else f"{fmt_us(cpu)} ({fmt_us(wall)})")
        out.append(f"| {what} | " + " | ".join(cells) + " |")
    if calls_per_account:
        latency, sdk, minimal = account_floor_ms(floor, calls_per_account)
        out += [
            "",
            f"At the class audit's {calls_per_account:.1f} calls an account, answered after {latency} ms with "
            f"{CONCURRENT} in flight, the calls alone cost at least {sdk:.1f} ms of CPU an account through the SDK and "
            f"{minimal:.1f} ms with the minimal client, before AssumeRole's credentials, the SDK clients, the checks and "
            "the report.",
        ]
    return out


def account_floor_ms(floor: Floor, calls_per_account: float) -> tuple[int, float, float]:
    """The least CPU an account's calls can cost on this machine, at the class audit's
    latency with many calls in flight: (that latency, ms through the SDK, ms with no SDK)."""
    latency = max(floor.latencies_ms)
    sdk = calls_per_account * floor.cpu_us(SDK_ECS, CONCURRENT, latency) / 1000
    minimal = calls_per_account * floor.cpu_us(MINIMAL_ECS, CONCURRENT, latency) / 1000
    return latency, sdk, minimal


def goal_note(floor: Floor, calls_per_account: float) -> str:
    """What the CPU goal's verdict adds: the floor under it."""
    _, sdk, minimal = account_floor_ms(floor, calls_per_account)
    return f"; its calls alone cost at least {sdk:.1f} ms through the SDK, {minimal:.1f} ms with no SDK (call floor below)"

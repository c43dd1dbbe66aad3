#!/usr/bin/env python3
"""Benchmark of the Fargate course's grader; writes its figures to BENCHMARKS.md.

Run it as `scripts/bench [--runs N] [--quick]` from anywhere; the grader binary is
`$GRADER_BIN` (default `target/release/grader`, relative to the project root). Everything
runs against the course's AWS emulator (tests/emulator) on 127.0.0.1; no real AWS
configuration reaches any process.

What it measures, in one run:

1. The finished lab, checked three ways, at no added latency and at 50 ms per AWS call
   (a separate emulator for each latency, each with its own request log):
   - `grader check --all --format json`;
   - `bench-tools/cli-check.sh`, the same checks in bash around the AWS CLI;
   - `bench-tools/boto3_check.py`, the same checks as a sequential boto3 script.
   With `--baseline-bin PATH`, a second grader binary (e.g. the same code built another
   way) is checked the same way, in the same runs, so the two medians can be compared; it
   also audits the first cohort at concurrency 16, taking turns with the grader run by run
   (the grader's CPU varies by a fifth between runs on a busy machine: only runs taken in
   turns can tell two builds apart).
   Each tool runs once untimed (its AWS calls are counted from the request log, and all
   must report every check passing, with the same verdicts), then `--runs` timed runs,
   interleaved run by run. With latency L no tool can finish before (longest chain of
   dependent AWS calls) x L; the grader's chain is `LATENCY_CHAIN`.
2. A cohort at 20 ms per call, of 200 accounts and (by default) 2,000 (`--cohort-sizes`),
   spread over `--cohort-emulators` emulator processes (default 4; one moto process would
   be the bottleneck): each roster row names a profile whose section in a generated AWS
   config file gives its emulator's endpoint_url and the source keys. `grader cohort` with
   16 accounts at a time (`--runs` runs), and for the first size also with 1 (sequential,
   one run): wall time, peak RSS, the grader's own CPU time and the emulators' CPU time,
   after each JSON report is checked account by account. `--cohort-emulators 4,1` adds the
   same with one emulator (first size only), for comparison.
3. The largest cohort again as `--cohort-shards` shards (default 4) side by side, each a
   `grader cohort --shard K/N` process of its own (its wall time, CPU and peak RSS), then
   `grader cohort merge`, whose report must classify every account as the unsharded
   audit does. From these: the grader's CPU per account, each shard's peak memory, and a
   paper estimate for a class of 100,000 accounts on AWS Batch.
4. One AWS call's CPU against a canned endpoint instead of moto (`floor.py`): the grader's
   SDK calls and a minimal signed call without the SDK, answered at once and after 20 ms,
   one and 32 at a time. It bounds what the class audit's CPU per account can become.

Then it prints the figures and the goals (met, or missed by how much) as Markdown and
writes them to BENCHMARKS.md. Exit status: 0 when the benchmark ran (goals met or not),
1 when a tool gave a wrong verdict or something broke, 2 on a usage or setup problem.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = ROOT / "scripts" / "bench-tools"
VENV_BIN = ROOT / ".venv" / "bin"
REPORT_PATH = ROOT / "BENCHMARKS.md"

LAB_LATENCIES_MS = (0, 50)
GOAL_LATENCY_MS = 50
COHORT_LATENCY_MS = 20
COHORT_CONCURRENCY = 16
COHORT_SCAN_REGIONS = "us-west-2,eu-west-1"
COHORT_STATUSES = ("pass", "fail", "error")
DEFAULT_COHORT_SIZES = "200,2000"
QUICK_COHORT_SIZES = "200"
DEFAULT_COHORT_EMULATORS = "4"
SETUP_THREADS = 32
# When the emulators and the grader together use at least this share of the machine's CPUs
# over a run's wall time, and the emulators most of it, the emulators are taken to set that
# wall time: the machine is saturated and the grader waits for answers queued behind others.
SATURATED_SHARE = 0.85

# The longest chain of AWS calls the grader must make one after another for the lab: it
# connects first (identity), then follows the service's task to its network interface to
# find the public IP. Everything else can overlap with this chain.
LATENCY_CHAIN = ["sts:GetCallerIdentity", "ecs:ListTasks", "ecs:DescribeTasks", "ec2:DescribeNetworkInterfaces"]

# Goals (from the issue); every ratio is measured within one run of this script.
GOAL_VS_CLI = 20.0  # grader at least this many times faster than the AWS CLI script
GOAL_VS_BOTO3 = 3.0  # ... and than the sequential boto3 script
GOAL_VS_BOUND = 1.5  # grader's median at most this many times the latency bound
GOAL_COHORT_SECONDS = 5.0  # for 200 accounts (the first --cohort-sizes)
GOAL_COHORT_RSS_MB = 60.0
GOAL_CPU_MS_PER_ACCOUNT = 5.0  # the grader's CPU per audited account, in the sharded run
DEFAULT_COHORT_SHARDS = 4
# Calls of each kind `call-floor` makes at each latency and concurrency (part 4).
FLOOR_CALLS = 1000
FLOOR_QUICK_CALLS = 300
# The paper estimate: a class this large, STS's AssumeRole quota the audits share.
ESTIMATE_ACCOUNTS = 100_000
STS_ASSUME_RATE = 20.0  # `--assume-rate`'s default, per shard
# Larger classes: at most (accounts / first size) times the first size's wall time (linear).
# Against --baseline-bin: the grader's median at most this much slower than the baseline's.
GOAL_BASELINE_SHARE = 0.10
GOAL_BASELINE_SECONDS = 0.020

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, str(TOOLS_DIR))
import aws_setup  # noqa: E402
import floor as call_floor  # noqa: E402
from botocore.exceptions import BotoCoreError, ClientError  # noqa: E402
from emulator import Emulator, KeepAliveFront, EmulatorError  # noqa: E402


class BenchError(RuntimeError):
    """The benchmark cannot give honest figures (a wrong verdict, a failed setup)."""


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# Running child processes


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_bytes: int
    cpu_seconds: float  # user + system, from os.wait4


def run(command: list[str], env: dict[str, str]) -> Run:
    """Runs a command to completion through the small launcher `measure.py`, which times it
    from spawn to exit and takes its peak RSS from os.wait4 on it (see there why not here)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "result.json"
        launcher = [str(VENV_BIN / "python"), "-S", "-I", str(TOOLS_DIR / "measure.py"), str(result_path)]
        subprocess.run([*launcher, *command], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
        if not result_path.exists():
            raise BenchError(f"could not run {shlex.join(command)}:\n{tail(stderr)}")
        measured = json.loads(result_path.read_text())
    return Run(measured["exit"], stdout, stderr, measured["seconds"], measured["max_rss_bytes"], measured["cpu_seconds"])


def base_env(workdir: Path) -> dict[str, str]:
    """The whole environment of every child: nothing inherited but a plain PATH."""
    return {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir / "home"),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
    }


def aws_env(workdir: Path, endpoint: str, state_dir: Path) -> dict[str, str]:
    """Environment of a tool under test: the emulator's default keys (the instructor's
    account 123456789012), us-east-1, and empty AWS config files."""
    return {
        **base_env(workdir),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(workdir / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "AWS_CLI": str(VENV_BIN / "aws"),
        "GRADER_STATE_DIR": str(state_dir),
    }


def cohort_env(workdir: Path, config_file: Path, credentials_file: Path, state_dir: Path) -> dict[str, str]:
    """Environment of `grader cohort` on a class spread over several emulators: no endpoint
    and no keys here, since each roster row's profile (in `config_file`) names its
    emulator's endpoint_url and the source keys, and the environment's would win over them
    (AWS_ENDPOINT_URL over a profile's endpoint_url; AWS_ACCESS_KEY_ID over its keys)."""
    return {
        **base_env(workdir),
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(config_file),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials_file),
        "AWS_EC2_METADATA_DISABLED": "true",
        "GRADER_STATE_DIR": str(state_dir),
    }


def isolate_own_aws_config(workdir: Path) -> None:
    """This process sets the lab up with boto3: keep the machine's AWS settings and proxies
    out of it too (keys and endpoints are passed to each client explicitly)."""
    (workdir / "home").mkdir(parents=True, exist_ok=True)
    for name in ("aws-config", "aws-credentials"):
        (workdir / name).write_text("")
    for name in list(os.environ):
        if name.startswith("AWS_") or name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            del os.environ[name]
    os.environ.update(
        AWS_CONFIG_FILE=str(workdir / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(workdir / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
    )


# ---------------------------------------------------------------------------------------
# The tools under test and their verdicts


@dataclass
class Tool:
    name: str
    label: str
    command: list[str]
    report: str  # "grader-json" or "lines"


def lab_tools(grader: Path, baseline: Path | None, baseline_label: str) -> list[Tool]:
    graders = [Tool("grader", "`grader check --all`", [str(grader), "check", "--all", "--format", "json"], "grader-json")]
    if baseline is not None:
        graders.append(Tool(
            "baseline", f"`grader check --all`, baseline ({baseline_label})",
            [str(baseline), "check", "--all", "--format", "json"], "grader-json",
        ))
    return [
        *graders,
        Tool("aws-cli", "AWS CLI script", ["bash", str(TOOLS_DIR / "cli-check.sh")], "lines"),
        Tool("boto3", "boto3 script", [str(VENV_BIN / "python"), str(TOOLS_DIR / "boto3_check.py")], "lines"),
    ]


def verdicts_of(tool: Tool, result: Run) -> dict[str, str]:
    """Check id -> status, from the grader's JSON report or from `pass|fail ID` lines."""
    if tool.report == "grader-json":
        try:
            report = json.loads(result.stdout)
        except json.JSONDecodeError as e:
            raise BenchError(f"{tool.name}: stdout is not JSON ({e})\n{tail(result.stderr)}") from e
        return {c["id"]: c["status"] for step in report["steps"] for c in step["checks"]}
    verdicts = {}
    for line in result.stdout.splitlines():
        status, _, check_id = line.partition(" ")
        if status not in ("pass", "fail") or not check_id:
            raise BenchError(f"{tool.name}: unexpected output line {line!r}")
        verdicts[check_id] = status
    return verdicts


def passing_verdicts(tool: Tool, result: Run) -> dict[str, str]:
    """The verdicts of a run on the finished lab, which must all be `pass` (exit 0)."""
    verdicts = verdicts_of(tool, result)
    failing = [f"{check} {status}" for check, status in verdicts.items() if status != "pass"]
    if result.code != 0 or failing or not verdicts:
        raise BenchError(
            f"{tool.name} does not pass the finished lab (exit {result.code}): {', '.join(failing) or 'no checks'}\n"
            f"{tail(result.stderr)}"
        )
    return verdicts


def assert_agreement(verdicts: dict[str, dict[str, str]]) -> None:
    """All tools decided the same checks the same way."""
    reference_name, reference = next(iter(verdicts.items()))
    for name, theirs in verdicts.items():
        if theirs != reference:
            raise BenchError(f"{name} and {reference_name} disagree:\n  {name}: {theirs}\n  {reference_name}: {reference}")


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# ---------------------------------------------------------------------------------------
# The finished lab: three tools, two latencies


@dataclass
class LabFigures:
    latency_ms: int
    setup_seconds: float
    checks: list[str]
    times: dict[str, list[float]] = field(default_factory=dict)
    calls: dict[str, Counter] = field(default_factory=dict)
    emulator_cpu: dict[str, float] = field(default_factory=dict)  # seconds, during the counted run


def bench_lab(latency_ms: int, tools: list[Tool], runs: int, workdir: Path) -> LabFigures:
    options = ["--latency-ms", str(latency_ms)] if latency_ms else []
    log(f"lab at {latency_ms} ms: starting the emulator")
    with Emulator(ROOT, workdir, f"emulator-lab-{latency_ms}ms", options, base_env(workdir)) as emulator:
        started = time.perf_counter()
        account = aws_setup.Account(emulator.url, aws_setup.INSTRUCTOR)
        aws_setup.build_lab(account)
        aws_setup.wait_until_serving(account)
        setup_seconds = time.perf_counter() - started
        log(f"lab at {latency_ms} ms: built in {setup_seconds:.1f} s; one counted run of each tool")
        # One state directory per tool: the two graders keep no progress of each other's.
        envs = {tool.name: aws_env(workdir, emulator.url, workdir / f"state-lab-{latency_ms}ms-{tool.name}") for tool in tools}

        verdicts, calls, emulator_cpu = {}, {}, {}
        for tool in tools:
            before, cpu_before = emulator.request_count(), emulator.cpu_seconds()
            verdicts[tool.name] = passing_verdicts(tool, run(tool.command, envs[tool.name]))
            emulator_cpu[tool.name] = emulator.cpu_seconds() - cpu_before
            calls[tool.name] = Counter(f"{c['service']}:{c['action']}" for c in emulator.requests_since(before))
        assert_agreement(verdicts)

        times: dict[str, list[float]] = {tool.name: [] for tool in tools}
        for i in range(runs):
            log(f"lab at {latency_ms} ms: timed run {i + 1}/{runs}")
            # The two graders (with --baseline-bin) take turns going first.
            order = tools if i % 2 == 0 else sorted(tools, key=lambda t: {"grader": 1, "baseline": 0}.get(t.name, 2))
            for tool in order:
                result = run(tool.command, envs[tool.name])
                if passing_verdicts(tool, result) != verdicts[tool.name]:
                    raise BenchError(f"{tool.name}: other checks in timed run {i + 1}: {verdicts_of(tool, result)}")
                times[tool.name].append(result.seconds)
    checks = list(verdicts[tools[0].name])
    return LabFigures(latency_ms, setup_seconds, checks, times, calls, emulator_cpu)


# ---------------------------------------------------------------------------------------
# The cohort: a class spread over several emulators, 16 accounts at a time and one at a time


@dataclass
class CohortRun:
    seconds: float
    max_rss_bytes: int
    grader_cpu_seconds: float  # the grader's own CPU (user + system, os.wait4)
    calls: int  # AWS calls the run made (all emulators' request logs)
    emulator_cpu_seconds: float  # CPU all the emulators spent answering them


@dataclass
class ShardRun:
    accounts: int
    seconds: float
    max_rss_bytes: int
    grader_cpu_seconds: float


@dataclass
class ShardedRun:
    """The class as N shards side by side, then merged."""
    seconds: float  # from the first shard's start to the last one's end
    shards: list[ShardRun]
    merge: Run
    emulator_cpu_seconds: float


@dataclass
class CohortFigures:
    accounts: int
    emulators: int
    setup_seconds: float
    expected: dict[str, int]  # status -> accounts
    runs: dict[int, list[CohortRun]] = field(default_factory=dict)  # by concurrency
    sharded: ShardedRun | None = None
    # The same audits at COHORT_CONCURRENCY through keep-alive fronts (the first size only).
    kept_alive: list[CohortRun] = field(default_factory=list)
    # The baseline binary's audits at COHORT_CONCURRENCY, in turns with the grader's (the
    # first size only, with --baseline-bin).
    baseline: list[CohortRun] = field(default_factory=list)

    def title(self) -> str:
        return f"{self.accounts:,} accounts on {self.emulators} emulator{'s' if self.emulators > 1 else ''}"


def bench_cohorts(
    grader: Path, sizes: list[int], emulator_counts: list[int], runs: int, shards: int, workdir: Path,
    baseline: Path | None = None,
) -> list[CohortFigures]:
    """Every size on the first emulator count (the first size also one account at a time);
    the other emulator counts at the first size only, for comparison; the largest size also
    in shards."""
    found = []
    for size in sizes:
        for emulators in emulator_counts if size == sizes[0] else emulator_counts[:1]:
            sequential = size == sizes[0] and emulators == emulator_counts[0]
            sharded = shards if size == max(sizes) and emulators == emulator_counts[0] else 0
            found.append(bench_cohort(grader, size, emulators, runs, sequential, sharded, workdir,
                                      baseline if sequential else None))
    return found


def bench_cohort(
    grader: Path, accounts: int, emulator_count: int, runs: int, sequential: bool, shards: int, workdir: Path,
    baseline: Path | None = None,
) -> CohortFigures:
    tag = f"cohort-{accounts}-on-{emulator_count}"
    options = ["--strict-assume-role", "--latency-ms", str(COHORT_LATENCY_MS)]
    log(f"{tag}: starting {emulator_count} emulator(s) at {COHORT_LATENCY_MS} ms")
    with contextlib.ExitStack() as stack:
        emulators = []
        for j in range(emulator_count):  # all load moto at once, then each is waited for
            emulator = Emulator(ROOT, workdir, f"emulator-{tag}-{j}", options, base_env(workdir))
            stack.callback(emulator.stop)
            emulator.launch()
            emulators.append(emulator)
        for emulator in emulators:
            emulator.wait_until_ready()

        # Account i lives on emulator i mod K: every emulator gets its share of each kind.
        kinds = aws_setup.class_kinds(accounts)
        account_ids = aws_setup.class_account_ids(accounts)
        homes = [i % emulator_count for i in range(accounts)]
        log(f"{tag}: setting up {accounts} accounts on {SETUP_THREADS} threads")
        started = time.perf_counter()
        aws_setup.set_up_class(
            [(emulators[h].url, a, k) for h, a, k in zip(homes, account_ids, kinds)], threads=SETUP_THREADS
        )
        setup_seconds = time.perf_counter() - started
        log(f"{tag}: set up in {setup_seconds:.1f} s")

        files = workdir / tag
        files.mkdir()
        config, credentials, roster = files / "aws-config", files / "aws-credentials", files / "roster.csv"
        config.write_text(aws_setup.profiles_config({f"emulator-{j}": e.url for j, e in enumerate(emulators)}))
        credentials.write_text("")
        roster.write_text(aws_setup.roster_csv(account_ids, [f"emulator-{h}" for h in homes]))
        expected = {a: aws_setup.EXPECTED_STATUS[k] for a, k in zip(account_ids, kinds)}
        counts = Counter(expected.values())
        figures = CohortFigures(accounts, emulator_count, setup_seconds, {s: counts[s] for s in COHORT_STATUSES})

        plan = [(COHORT_CONCURRENCY, i) for i in range(runs)] + ([(1, 0)] if sequential else [])
        for concurrency, i in plan:
            log(f"{tag}: --concurrency {concurrency}, run {i + 1}")
            audit = audit_cohort(
                grader, emulators, roster, config, credentials, concurrency, expected, workdir, files / f"c{concurrency}-{i}"
            )
            log(
                f"{tag}: {fmt_seconds(audit.seconds)}, grader CPU {fmt_seconds(audit.grader_cpu_seconds)}, "
                f"emulators' CPU {fmt_seconds(audit.emulator_cpu_seconds)}, peak RSS {fmt_mb(audit.max_rss_bytes)}"
            )
            figures.runs.setdefault(concurrency, []).append(audit)
            if baseline is not None and concurrency == COHORT_CONCURRENCY:
                audit = audit_cohort(
                    baseline, emulators, roster, config, credentials, concurrency, expected, workdir, files / f"baseline-{i}"
                )
                log(f"{tag}: baseline, {fmt_seconds(audit.seconds)}, grader CPU {fmt_seconds(audit.grader_cpu_seconds)}")
                figures.baseline.append(audit)
        if sequential:
            # AWS keeps connections alive and the emulator cannot: the same audits through a
            # keep-alive front before each emulator show the grader's CPU as it would be on AWS.
            fronts = [KeepAliveFront(ROOT, e) for e in emulators]
            for front in fronts:
                stack.callback(front.stop)
            kept = files / "aws-config-kept-alive"
            kept.write_text(aws_setup.profiles_config({f"emulator-{j}": f.url for j, f in enumerate(fronts)}))
            for i in range(runs):
                log(f"{tag}: --concurrency {COHORT_CONCURRENCY} through keep-alive fronts, run {i + 1}")
                audit = audit_cohort(
                    grader, emulators, roster, kept, credentials, COHORT_CONCURRENCY, expected, workdir, files / f"kept-alive-{i}"
                )
                log(f"{tag}: {fmt_seconds(audit.seconds)}, grader CPU {fmt_seconds(audit.grader_cpu_seconds)}")
                figures.kept_alive.append(audit)
        if shards > 1:
            log(f"{tag}: {shards} shards side by side, then merged")
            figures.sharded = audit_shards(
                grader, emulators, roster, config, credentials, shards, expected, workdir, files / "shards"
            )
            sharded = figures.sharded
            log(
                f"{tag}: shards {fmt_seconds(sharded.seconds)}, grader CPU "
                f"{fmt_seconds(sum(r.grader_cpu_seconds for r in sharded.shards))}, merge {fmt_seconds(sharded.merge.seconds)}"
            )
    return figures


def audit_shards(
    grader: Path, emulators: list[Emulator], roster: Path, config: Path, credentials: Path, count: int,
    expected: dict[str, str], workdir: Path, rundir: Path,
) -> ShardedRun:
    """`count` shard processes at once (as an AWS Batch array job runs them), then the merge;
    the merged report is checked account by account."""
    import concurrent.futures

    rundir.mkdir(parents=True)
    env = cohort_env(workdir, config, credentials, rundir / "grader-state")

    def shard(k: int) -> Run:
        command = [
            str(grader), "cohort", "--roster", str(roster), "--concurrency", str(COHORT_CONCURRENCY),
            "--scan-regions", COHORT_SCAN_REGIONS, "--shard", f"{k}/{count}", "--format", "json",
            "--output", str(rundir / f"shard-{k}.json"),
        ]
        return run(command, env)

    cpu_before = sum(e.cpu_seconds() for e in emulators)
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(shard, range(1, count + 1)))
    seconds = time.perf_counter() - started
    emulator_cpu = sum(e.cpu_seconds() for e in emulators) - cpu_before
    shard_runs = []
    for k, result in enumerate(results, start=1):
        path = rundir / f"shard-{k}.json"
        if result.code not in (0, 1) or not path.exists():
            raise BenchError(f"grader cohort --shard {k}/{count}: exit {result.code}\n{tail(result.stderr)}")
        shard_runs.append(ShardRun(len(json.loads(path.read_text())["accounts"]), result.seconds, result.max_rss_bytes,
                                   result.cpu_seconds))
    merged_path = rundir / "merged.json"
    merge = run([str(grader), "cohort", "merge", *[str(rundir / f"shard-{k}.json") for k in range(1, count + 1)],
                 "--format", "json", "--output", str(merged_path)], env)
    if merge.code not in (0, 1) or not merged_path.exists():
        raise BenchError(f"grader cohort merge: exit {merge.code}\n{tail(merge.stderr)}")
    report = json.loads(merged_path.read_text())
    wrong = [a["account_id"] for a in report["accounts"] if a["status"] != expected.get(a["account_id"])]
    if wrong or len(report["accounts"]) != len(expected):
        raise BenchError(f"the merged shards misclassified {len(wrong)} accounts (or lost some): {wrong[:10]}")
    return ShardedRun(seconds, shard_runs, merge, emulator_cpu)


def audit_cohort(
    grader: Path, emulators: list[Emulator], roster: Path, config: Path, credentials: Path, concurrency: int,
    expected: dict[str, str], workdir: Path, rundir: Path,
) -> CohortRun:
    """One timed `grader cohort` run, its report checked account by account."""
    rundir.mkdir(parents=True)
    output = rundir / "report.json"
    command = [
        str(grader), "cohort", "--roster", str(roster), "--concurrency", str(concurrency),
        "--scan-regions", COHORT_SCAN_REGIONS, "--format", "json", "--output", str(output),
    ]
    env = cohort_env(workdir, config, credentials, rundir / "grader-state")
    assert not any(name.startswith("AWS_ENDPOINT_URL") for name in env)  # the profiles' endpoints must win
    calls_before = sum(e.request_count() for e in emulators)
    cpu_before = sum(e.cpu_seconds() for e in emulators)
    result = run(command, env)
    calls = sum(e.request_count() for e in emulators) - calls_before
    cpu = sum(e.cpu_seconds() for e in emulators) - cpu_before
    want_exit = 0 if all(s == "pass" for s in expected.values()) else 1
    if result.code != want_exit or not output.exists():
        raise BenchError(f"grader cohort: exit {result.code}, expected {want_exit}\n{tail(result.stderr)}")
    report = json.loads(output.read_text())
    summary = {k: report["summary"].get(k) for k in COHORT_STATUSES}
    counts = Counter(expected.values())
    wanted = {k: counts[k] for k in COHORT_STATUSES}
    wrong = [
        f"{a['account_id']}: {a['status']} (expected {expected.get(a['account_id'])}) {a.get('error') or ''}"
        for a in report["accounts"]
        if a["status"] != expected.get(a["account_id"])
    ]
    if summary != wanted or wrong or len(report["accounts"]) != len(expected):
        raise BenchError(
            f"grader cohort misclassified accounts: summary {summary}, expected {wanted}\n" + "\n".join(wrong[:20])
            + "\n(accounts not found or roles refused on every emulator but the first would mean the grader sent "
            "profile rows to one endpoint instead of each profile's endpoint_url)"
        )
    return CohortRun(result.seconds, result.max_rss_bytes, result.cpu_seconds, calls, cpu)


# ---------------------------------------------------------------------------------------
# Figures and goals


def fmt_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def fmt_mb(size_bytes: float) -> str:
    return f"{size_bytes / 1e6:.1f} MB"


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    return f"{fmt_seconds(min(values))} – {fmt_seconds(max(values))}"


def latency_bound_seconds(latency_ms: int) -> float:
    return len(LATENCY_CHAIN) * latency_ms / 1000


@dataclass
class Goal:
    text: str
    target: str
    measured: str
    met: bool
    verdict: str


def speedup_goal(text: str, grader_s: float, other_s: float, target: float) -> Goal:
    ratio = other_s / grader_s
    if ratio >= target:
        verdict = f"met, with {ratio / target:.2f}× to spare"
    else:
        verdict = f"missed by {target / ratio:.2f}×: the grader would need ≤ {fmt_seconds(other_s / target)}, it took {fmt_seconds(grader_s)}"
    return Goal(text, f"≥ {target:g}×", f"{ratio:.1f}× ({fmt_seconds(other_s)} / {fmt_seconds(grader_s)})", ratio >= target, verdict)


def goals(labs: list[LabFigures], cohorts: list[CohortFigures], cores: int, floor: call_floor.Floor | None) -> list[Goal]:
    return (lab_goals(labs) if labs else []) + (cohort_goals(cohorts, cores, floor) if cohorts else [])


def calls_per_account(cohorts: list[CohortFigures]) -> float | None:
    """AWS calls an account in the first cohort's concurrent audit (its first run)."""
    if not cohorts or not cohorts[0].runs.get(COHORT_CONCURRENCY):
        return None
    return cohorts[0].runs[COHORT_CONCURRENCY][0].calls / cohorts[0].accounts


def lab_goals(labs: list[LabFigures]) -> list[Goal]:
    lab = next(lab for lab in labs if lab.latency_ms == GOAL_LATENCY_MS)
    grader_s = median(lab.times["grader"])
    bound = latency_bound_seconds(lab.latency_ms)
    at = f"Full lab at {lab.latency_ms} ms:"
    found = [
        speedup_goal(f"{at} faster than the AWS CLI script", grader_s, median(lab.times["aws-cli"]), GOAL_VS_CLI),
        speedup_goal(f"{at} faster than the sequential boto3 script", grader_s, median(lab.times["boto3"]), GOAL_VS_BOTO3),
    ]
    ratio = grader_s / bound
    found.append(Goal(
        f"{at} close to the latency bound ({fmt_seconds(bound)})",
        f"≤ {GOAL_VS_BOUND:g}× the bound",
        f"{ratio:.2f}× ({fmt_seconds(grader_s)})",
        ratio <= GOAL_VS_BOUND,
        f"met, {fmt_seconds(GOAL_VS_BOUND * bound - grader_s)} to spare" if ratio <= GOAL_VS_BOUND
        else f"missed by {fmt_seconds(grader_s - GOAL_VS_BOUND * bound)} (limit {fmt_seconds(GOAL_VS_BOUND * bound)})",
    ))
    grader_calls, boto3_calls = sum(lab.calls["grader"].values()), sum(lab.calls["boto3"].values())
    found.append(Goal(
        f"{at} AWS calls",
        "≤ the boto3 script's",
        f"{grader_calls} (boto3: {boto3_calls})",
        grader_calls <= boto3_calls,
        ("met (as many)" if grader_calls == boto3_calls else f"met, {boto3_calls - grader_calls} fewer") if grader_calls <= boto3_calls
        else f"missed by {grader_calls - boto3_calls} call(s)",
    ))
    found += [baseline_goal(lab) for lab in labs if "baseline" in lab.times]
    return found


def cohort_goals(cohorts: list[CohortFigures], cores: int, floor: call_floor.Floor | None = None) -> list[Goal]:
    found = []
    first = cohorts[0]  # the first size, on the first emulator count
    concurrent = first.runs[COHORT_CONCURRENCY]
    wall = median([r.seconds for r in concurrent])
    found.append(Goal(
        f"Cohort of {first.accounts} at {COHORT_LATENCY_MS} ms ({first.emulators} emulators): wall time",
        f"< {GOAL_COHORT_SECONDS:g} s",
        fmt_seconds(wall),
        wall < GOAL_COHORT_SECONDS,
        (f"met, {fmt_seconds(GOAL_COHORT_SECONDS - wall)} to spare" if wall < GOAL_COHORT_SECONDS
         else f"missed by {fmt_seconds(wall - GOAL_COHORT_SECONDS)}") + bound_note(first, concurrent, cores),
    ))
    rss_mb = max(r.max_rss_bytes for r in concurrent) / 1e6
    found.append(Goal(
        f"Cohort of {first.accounts} at {COHORT_LATENCY_MS} ms: peak RSS",
        f"< {GOAL_COHORT_RSS_MB:g} MB",
        f"{rss_mb:.1f} MB",
        rss_mb < GOAL_COHORT_RSS_MB,
        f"met, {GOAL_COHORT_RSS_MB - rss_mb:.1f} MB to spare" if rss_mb < GOAL_COHORT_RSS_MB
        else f"missed by {rss_mb - GOAL_COHORT_RSS_MB:.1f} MB",
    ))
    per_account_calls = calls_per_account(cohorts)
    for c in cohorts:
        if c.sharded is None:
            continue
        cpu_ms = sum(r.grader_cpu_seconds for r in c.sharded.shards) * 1000 / c.accounts
        found.append(Goal(
            f"Cohort of {c.accounts:,} as {len(c.sharded.shards)} shards: the grader's CPU per account",
            f"≤ {GOAL_CPU_MS_PER_ACCOUNT:g} ms",
            f"{cpu_ms:.1f} ms",
            cpu_ms <= GOAL_CPU_MS_PER_ACCOUNT,
            f"met, {GOAL_CPU_MS_PER_ACCOUNT - cpu_ms:.1f} ms to spare" if cpu_ms <= GOAL_CPU_MS_PER_ACCOUNT
            else f"missed by {cpu_ms - GOAL_CPU_MS_PER_ACCOUNT:.1f} ms"
            + (call_floor.goal_note(floor, per_account_calls) if floor and per_account_calls else ""),
        ))
    for larger in cohorts[1:]:
        if larger.emulators != first.emulators:
            continue
        runs = larger.runs[COHORT_CONCURRENCY]
        times, scale = median([r.seconds for r in runs]), larger.accounts / first.accounts
        limit = scale * wall
        found.append(Goal(
            f"Cohort of {larger.accounts:,} at {COHORT_LATENCY_MS} ms: wall time linear in accounts",
            f"< {scale:g}× the {first.accounts}-account time ({fmt_seconds(limit)})",
            f"{fmt_seconds(times)} ({times / wall:.1f}×)",
            times < limit,
            (f"met, {fmt_seconds(limit - times)} to spare" if times < limit else f"missed by {fmt_seconds(times - limit)}")
            + bound_note(larger, runs, cores),
        ))
    return found


def baseline_goal(lab: LabFigures) -> Goal:
    """The grader no slower than the baseline binary: within 10 % or 20 ms of its median."""
    main, base = median(lab.times["grader"]), median(lab.times["baseline"])
    allowed = max(GOAL_BASELINE_SHARE * base, GOAL_BASELINE_SECONDS)
    slower = main - base
    if slower <= 0:
        verdict = f"met, {fmt_seconds(-slower)} faster than the baseline"
    elif slower <= allowed:
        verdict = f"met, {fmt_seconds(slower)} slower (allowed {fmt_seconds(allowed)})"
    else:
        verdict = f"missed: {fmt_seconds(slower)} slower, allowed {fmt_seconds(allowed)}"
    return Goal(
        f"Full lab at {lab.latency_ms} ms: check times unchanged vs baseline",
        f"within {GOAL_BASELINE_SHARE * 100:g} % (or {fmt_seconds(GOAL_BASELINE_SECONDS)}, whichever is larger)",
        f"main / baseline = {main / base:.2f}× ({fmt_seconds(main)} / {fmt_seconds(base)})",
        slower <= allowed,
        verdict,
    )


def emulators_share(run: CohortRun, cores: int) -> float:
    """The emulators' CPU time over what the machine's CPUs could give in the wall time."""
    return run.emulator_cpu_seconds / (run.seconds * cores)


def machine_share(run: CohortRun, cores: int) -> float:
    """The emulators' and the grader's CPU time together, likewise."""
    return (run.emulator_cpu_seconds + run.grader_cpu_seconds) / (run.seconds * cores)


def emulators_bound(c: CohortFigures, runs: list[CohortRun], cores: int) -> str:
    """Why the emulators, not the grader, set these runs' wall time, or "" when they do not:
    the machine's CPUs are busy and the emulators take most of them, or each emulator (one
    Python process, one CPU at most) is busy nearly all the time."""
    total = median([machine_share(r, cores) for r in runs])
    emulators = median([emulators_share(r, cores) for r in runs])
    usable = min(c.emulators, cores)
    own = median([r.emulator_cpu_seconds / (r.seconds * usable) for r in runs])
    if total >= SATURATED_SHARE and median([r.emulator_cpu_seconds - r.grader_cpu_seconds for r in runs]) > 0:
        return f"the emulators used {emulators:.0%} of the {cores} CPUs ({total:.0%} with the grader)"
    if own >= SATURATED_SHARE:
        return (f"the emulator{'s were' if c.emulators > 1 else ' was'} busy {own:.0%} of the time "
                f"({'one CPU' if usable == 1 else f'{usable} CPUs'} at most, one per Python process)")
    return ""


def bound_note(c: CohortFigures, runs: list[CohortRun], cores: int) -> str:
    why = emulators_bound(c, runs, cores)
    return f"; {why}, so they, not the grader, set this time" if why else ""


# ---------------------------------------------------------------------------------------
# The machine and the report


def read_first(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def describe_cpu() -> str:
    """The CPU model as /proc/cpuinfo names it, with family and model (a bare "AMD EPYC"
    says little) and whether it runs under a hypervisor."""
    model = read_first("/proc/cpuinfo", "model name")
    family, number = read_first("/proc/cpuinfo", "cpu family"), read_first("/proc/cpuinfo", "model\t")
    virtual = " hypervisor" in f" {read_first('/proc/cpuinfo', 'flags')} "
    return f"{model} (family {family}, model {number}{', virtual machine' if virtual else ''})"


def describe_machine() -> dict[str, str]:
    mem_kb = read_first("/proc/meminfo", "MemTotal").split()[0]
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": describe_cpu(),
        "memory": f"{int(mem_kb) / 1024 / 1024:.1f} GiB" if mem_kb.isdigit() else "unknown",
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def describe_code(grader: Path, baseline: Path | None, workdir: Path) -> dict[str, str]:
    def output(command: list[str]) -> str:
        try:
            return run(command, base_env(workdir)).stdout.strip()
        except OSError:
            return ""

    def describe(binary: Path) -> str:
        try:
            shown = str(binary.relative_to(ROOT))
        except ValueError:
            shown = str(binary)
        profile = "release" if "release" in binary.parts else "debug" if "debug" in binary.parts else "unknown profile"
        return f"`{shown}` ({profile} build, {output([str(binary), '--version']) or 'unknown version'})"

    commit = output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]) or "unknown"
    if output(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"]):
        commit += " (with uncommitted changes)"
    described = {"grader": describe(grader), "commit": commit}
    if baseline is not None:
        described["baseline"] = describe(baseline)
    return described


def invocation() -> str:
    prefix = f"GRADER_BIN={shlex.quote(os.environ['GRADER_BIN'])} " if os.environ.get("GRADER_BIN") else ""
    return prefix + shlex.join(["scripts/bench", *sys.argv[1:]])


def calls_total(calls: Counter) -> int:
    return sum(calls.values())


def render_report(
    ctx: dict, labs: list[LabFigures], cohorts: list[CohortFigures], floor: call_floor.Floor | None, goal_list: list[Goal]
) -> str:
    m, code = ctx["machine"], ctx["code"]
    names = {t.name: t.label for t in ctx["tools"]}
    out = [
        "# Benchmarks",
        "",
        f"Written by `scripts/bench` on {ctx['date']} (took {fmt_seconds(ctx['elapsed'])}). To reproduce:",
        "",
        "```sh",
        ctx["command"],
        "```",
        "",
        f"- Machine: {m['cpu']}, {m['nproc']} CPUs (nproc), {m['memory']} memory; {m['kernel']}; Python {m['python']}",
        f"- Load average (1, 5, 15 min) at start: {ctx['load_start']}; at end: {ctx['load_end']}",
        f"- Grader: {code['grader']}, commit {code['commit']}",
        *([f"- Baseline grader ({ctx['baseline_label']}): {code['baseline']}, timed in the full-lab runs only"] if "baseline" in code else []),
        f"- Timed runs: {ctx['runs']} per tool and latency (interleaved), after one untimed run that counts its AWS calls",
        "- Emulator: `tests/emulator/server.py` (moto) on 127.0.0.1, one process per latency for the lab, "
        "several for the cohort, each with its own request log",
        "",
        "## Goals",
        "",
        "| goal | target | measured | verdict |",
        "|---|---|---|---|",
    ]
    out += [f"| {g.text} | {g.target} | {g.measured} | {'✅' if g.met else '❌'} {g.verdict} |" for g in goal_list]
    for lab in labs:
        bound = latency_bound_seconds(lab.latency_ms)
        out += [
            "",
            f"## Full lab (step-1 … step-9), {lab.latency_ms} ms per AWS call" if lab.latency_ms else "## Full lab (step-1 … step-9), no added latency",
            "",
            f"{len(lab.checks)} checks ({', '.join(lab.checks)}); every tool passed all of them, with the same verdicts, in every run. "
            f"Lab set up with boto3 in {fmt_seconds(lab.setup_seconds)} (not timed).",
            "",
            "| tool | median | spread (min – max) | AWS calls (one run) | emulator CPU (same run) |"
            + (" median / latency bound |" if bound else ""),
            "|---|---|---|---|---|" + ("---|" if bound else ""),
        ]
        for name, times in lab.times.items():
            row = (
                f"| {names[name]} | {fmt_seconds(median(times))} | {spread(times)} | {calls_total(lab.calls[name])} "
                f"| {fmt_seconds(lab.emulator_cpu[name])} |"
            )
            out.append(row + (f" {median(times) / bound:.2f}× |" if bound else ""))
        grader_s = median(lab.times["grader"])
        out += [
            "",
            f"Speed-up of the grader: {median(lab.times['aws-cli']) / grader_s:.1f}× over the AWS CLI script, "
            f"{median(lab.times['boto3']) / grader_s:.1f}× over the boto3 script.",
        ]
        if "baseline" in lab.times:
            base_s = median(lab.times["baseline"])
            out += [
                "",
                f"Against the baseline binary ({ctx['baseline_label']}), timed in the same runs: "
                f"main / baseline = {grader_s / base_s:.2f}× ({fmt_seconds(grader_s)} / {fmt_seconds(base_s)}, medians).",
            ]
        if bound:
            out += [
                "",
                f"Latency bound: the longest chain of AWS calls that must follow one another is "
                f"{' → '.join(f'`{c}`' for c in LATENCY_CHAIN)} (the grader connects first, then follows the service's "
                f"task to its network interface for the public IP), so no tool can finish before "
                f"{len(LATENCY_CHAIN)} × {lab.latency_ms} ms = {fmt_seconds(bound)}. "
                f"The grader's median is {grader_s / bound:.2f}× that. The bound counts no time for the emulator's "
                "own work; it answers ECS, EC2 and Logs calls one at a time (after the latency, which overlaps), "
                "so calls sent together still queue there: see its CPU time above.",
            ]
    if labs:
        out += calls_table(next(lab for lab in labs if lab.latency_ms == GOAL_LATENCY_MS), names)
    if cohorts:
        out += cohort_section(cohorts, int(ctx["machine"]["nproc"]), ctx["rss_floor_bytes"])
    if floor:
        out += call_floor.floor_section(floor, calls_per_account(cohorts))
    return "\n".join(out) + "\n"


def calls_table(lab: LabFigures, names: dict[str, str]) -> list[str]:
    actions = sorted(set().union(*lab.calls.values()))
    tools = list(lab.calls)
    out = [
        "",
        f"## AWS calls per tool (one run each, {lab.latency_ms} ms emulator)",
        "",
        "| call | " + " | ".join(names[t] for t in tools) + " |",
        "|---|" + "---|" * len(tools),
    ]
    out += [f"| `{a}` | " + " | ".join(str(lab.calls[t][a]) for t in tools) + " |" for a in actions]
    out.append("| **total** | " + " | ".join(f"**{calls_total(lab.calls[t])}**" for t in tools) + " |")
    return out


def cohort_section(cohorts: list[CohortFigures], cores: int, rss_floor_bytes: int) -> list[str]:
    first = cohorts[0]
    classes = "; ".join(
        f"{c.accounts:,} accounts: " + ", ".join(f"{n:,} {s}" for s, n in c.expected.items())
        for c in cohorts if c.emulators == first.emulators
    )
    out = [
        "",
        f"## Cohort: {COHORT_LATENCY_MS} ms per AWS call, the class spread over {first.emulators} emulators",
        "",
        f"`grader cohort --roster FILE --concurrency N --scan-regions {COHORT_SCAN_REGIONS} --format json --output FILE` "
        "(cleanup audit through `sts:AssumeRole` into each account). The class is spread over several emulator "
        "processes (each one Python process with `--strict-assume-role`; one alone would be the bottleneck): account "
        "i lives on emulator i mod K, and its roster row names a profile whose section in a generated AWS config file "
        "gives that emulator's `endpoint_url` and the instructor's keys (no endpoint or keys in the environment). "
        f"Every run's JSON report was checked account by account ({classes}).",
        "",
        "| accounts | emulators | concurrency | runs | wall time, median | spread (min – max) | peak RSS (max) "
        f"| grader CPU, median (share of wall) | emulators' CPU, median (share of {cores} CPUs × wall) | AWS calls per run |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cohorts:
        for concurrency, runs in sorted(c.runs.items(), reverse=True):
            times = [r.seconds for r in runs]
            calls = sorted({r.calls for r in runs})
            grader_cpu = median([r.grader_cpu_seconds for r in runs])
            emulator_cpu = median([r.emulator_cpu_seconds for r in runs])
            out.append(
                f"| {c.accounts:,} | {c.emulators} | {concurrency}{' (sequential)' if concurrency == 1 else ''} | {len(runs)} "
                f"| {fmt_seconds(median(times))} | {spread(times)} | {fmt_mb(max(r.max_rss_bytes for r in runs))} "
                f"| {fmt_seconds(grader_cpu)} ({median([r.grader_cpu_seconds / r.seconds for r in runs]):.0%}) "
                f"| {fmt_seconds(emulator_cpu)} ({median([emulators_share(r, cores) for r in runs]):.0%}) "
                f"| {'–'.join(map(str, calls))} |"
            )
    out += [
        "",
        f"Classes set up with boto3 on {SETUP_THREADS} threads, each account on its own emulator (not timed): "
        + "; ".join(f"{c.title()} in {fmt_seconds(c.setup_seconds)}" for c in cohorts) + ".",
        "",
        "Where the wall time goes, at concurrency "
        f"{COHORT_CONCURRENCY} (the grader's CPU is summed over its threads; the emulators' share is of all {cores} CPUs "
        "over the wall time; when the two together keep the machine busy, or each emulator, one Python process, "
        "keeps its one CPU busy, the emulators, not the grader, set the wall time):",
        "",
    ]
    for c in cohorts:
        runs = c.runs[COHORT_CONCURRENCY]
        wall = median([r.seconds for r in runs])
        grader_cpu = median([r.grader_cpu_seconds for r in runs])
        share = median([emulators_share(r, cores) for r in runs])
        why = emulators_bound(c, runs, cores)
        bound = (
            f" **The emulators, not the grader, bound this time on this {cores}-CPU machine**: {why}, so the grader "
            "waited for answers queued behind other accounts' calls."
            if why else ""
        )
        out.append(
            f"- {c.title()}: {fmt_seconds(wall)} wall; the grader used {fmt_seconds(grader_cpu)} of CPU "
            f"({grader_cpu / wall:.0%} of the wall time, {grader_cpu / (wall * cores):.0%} of the machine), the emulators "
            f"{fmt_seconds(median([r.emulator_cpu_seconds for r in runs]))} ({share:.0%} of the machine).{bound}"
        )
    out.append("")
    if first.kept_alive:
        direct = median([r.grader_cpu_seconds for r in first.runs[COHORT_CONCURRENCY]])
        kept = median([r.grader_cpu_seconds for r in first.kept_alive])
        out += [
            f"Connections kept alive, as AWS keeps them: the emulator closes every connection after one answer, so "
            f"the same {first.accounts}-account audits ran through a keep-alive front before each emulator "
            f"(`scripts/bench-tools/keepalive_proxy.py`; the emulators still see a connection per call): the grader "
            f"used {fmt_seconds(kept)} of CPU ({kept * 1000 / first.accounts:.1f} ms an account) against "
            f"{fmt_seconds(direct)} ({direct * 1000 / first.accounts:.1f} ms an account) with a new connection per call; "
            f"wall {fmt_seconds(median([r.seconds for r in first.kept_alive]))}, peak RSS "
            f"{fmt_mb(max(r.max_rss_bytes for r in first.kept_alive))}.",
            "",
        ]
    if first.baseline:
        ours = [r.grader_cpu_seconds * 1000 / first.accounts for r in first.runs[COHORT_CONCURRENCY]]
        theirs = [r.grader_cpu_seconds * 1000 / first.accounts for r in first.baseline]
        per_run = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(ours, theirs))
        out += [
            f"Against the baseline binary, in turns run by run on the same {first.accounts}-account class at concurrency "
            f"{COHORT_CONCURRENCY}: the grader used {median(ours):.1f} ms of CPU an account (median), the baseline "
            f"{median(theirs):.1f} ms; main/baseline = {median(ours) / median(theirs):.2f}× (each run, main/baseline ms: "
            f"{per_run}); peak RSS {fmt_mb(max(r.max_rss_bytes for r in first.runs[COHORT_CONCURRENCY]))} against "
            f"{fmt_mb(max(r.max_rss_bytes for r in first.baseline))}.",
            "",
        ]
    sequential = first.runs.get(1)
    first_wall = median([r.seconds for r in first.runs[COHORT_CONCURRENCY]])
    notes = []
    if sequential:
        one_at_a_time = median([r.seconds for r in sequential])
        width = min(COHORT_CONCURRENCY, first.accounts)
        notes.append(
            f"For {first.title()}, concurrency {COHORT_CONCURRENCY} is {one_at_a_time / first_wall:.1f}× faster than "
            f"one account at a time; with CPU to spare it could approach {fmt_seconds(one_at_a_time / width)} "
            f"(the sequential time / {width}, roughly what the latency alone costs)."
        )
    for c in cohorts[1:]:
        wall = median([r.seconds for r in c.runs[COHORT_CONCURRENCY]])
        if c.emulators == first.emulators:
            notes.append(
                f"{c.accounts:,} accounts took {wall / first_wall:.1f}× the {first.accounts}-account time "
                f"({c.accounts / first.accounts:g}× the accounts; linear would be {c.accounts / first.accounts:g}×)."
            )
        else:
            notes.append(f"On {c.emulators} emulator{'s' if c.emulators > 1 else ''} the same class took {fmt_seconds(wall)} "
                         f"({wall / first_wall:.1f}× the time on {first.emulators}).")
    out += [" ".join(notes), ""] if notes else []
    out += shards_section(cohorts)
    out.append(
        f"Peak RSS and CPU are the grader's `ru_maxrss` and `ru_utime + ru_stime` from `os.wait4`, started from the small "
        f"launcher `scripts/bench-tools/measure.py` (Linux counts the starting process's size in a child's peak, so the "
        f"figure cannot go below the launcher's {fmt_mb(rss_floor_bytes)}, measured with `true`). The emulators' CPU is "
        "read from `/proc/PID/stat` before and after each run. 1 MB = 10⁶ bytes."
    )
    return out


def shards_section(cohorts: list[CohortFigures]) -> list[str]:
    """The sharded run's figures, and what they say about a class of 100,000."""
    out = []
    for c in cohorts:
        sharded = c.sharded
        if sharded is None:
            continue
        n = len(sharded.shards)
        cpu = sum(r.grader_cpu_seconds for r in sharded.shards)
        out += [
            f"### {c.accounts:,} accounts as {n} shards, then merged",
            "",
            f"`grader cohort … --shard K/{n}` for K = 1…{n}, all at once (as an AWS Batch array job runs them), "
            f"each at concurrency {COHORT_CONCURRENCY}, then `grader cohort merge` of the {n} JSON documents; the "
            f"merged report classified every account as expected. All {n} shards took {fmt_seconds(sharded.seconds)} "
            f"wall; the emulators used {fmt_seconds(sharded.emulator_cpu_seconds)} of CPU meanwhile.",
            "",
            "| shard | accounts | wall time | grader CPU | CPU per account | peak RSS |",
            "|---|---|---|---|---|---|",
        ]
        for k, r in enumerate(sharded.shards, start=1):
            out.append(
                f"| {k}/{n} | {r.accounts:,} | {fmt_seconds(r.seconds)} | {fmt_seconds(r.grader_cpu_seconds)} "
                f"| {r.grader_cpu_seconds * 1000 / max(r.accounts, 1):.1f} ms | {fmt_mb(r.max_rss_bytes)} |"
            )
        out += [
            f"| merge | {c.accounts:,} | {fmt_seconds(sharded.merge.seconds)} | {fmt_seconds(sharded.merge.cpu_seconds)} "
            f"| {sharded.merge.cpu_seconds * 1000 / c.accounts:.2f} ms | {fmt_mb(sharded.merge.max_rss_bytes)} |",
            "",
        ]
        # The paper estimate: per shard, accounts × the wall time one account costs a shard
        # here; STS's rate bounds how fast the shards together can start accounts.
        per_account_wall = median([r.seconds / max(r.accounts, 1) for r in sharded.shards])
        cpu_per_account = cpu / c.accounts
        for shard_count in (50, 200):
            per_shard = ESTIMATE_ACCOUNTS / shard_count
            wall = per_shard * per_account_wall
            sts_floor = ESTIMATE_ACCOUNTS / (STS_ASSUME_RATE * shard_count)
            out.append(
                f"- Paper estimate, {ESTIMATE_ACCOUNTS:,} accounts in {shard_count} shards ({per_shard:,.0f} accounts each): "
                f"about {fmt_seconds(max(wall, sts_floor))} per shard at this run's {per_account_wall * 1000:.0f} ms of wall "
                f"time per account and shard (AssumeRole at {STS_ASSUME_RATE:g}/s per shard alone needs "
                f"{fmt_seconds(sts_floor)}; {shard_count} shards × {STS_ASSUME_RATE:g}/s = {shard_count * STS_ASSUME_RATE:,.0f} "
                f"AssumeRole calls a second from the instructor's account, {'within' if shard_count * STS_ASSUME_RATE <= 600 else 'above'} "
                f"STS's default 600/s); {ESTIMATE_ACCOUNTS * cpu_per_account / 3600:.2f} CPU-hours of grader in all."
            )
        out.append("")
    return out


# ---------------------------------------------------------------------------------------
# Main


def grader_binary() -> Path:
    given = Path(os.environ.get("GRADER_BIN") or "target/release/grader")
    candidates = [given] if given.is_absolute() else [Path.cwd() / given, ROOT / given]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path.resolve()
    log(f"no grader binary at {given}: build it with `cargo build --release` (or set GRADER_BIN)")
    sys.exit(2)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, metavar="N",
        help="timed runs of each tool at each latency, and of each concurrent cohort audit "
        "(default 5; the sequential cohort audit runs once)",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help=f"2 timed runs instead of 5, and a cohort of {QUICK_COHORT_SIZES} only unless --cohort-sizes is given",
    )
    parser.add_argument(
        "--baseline-bin", type=Path, metavar="PATH",
        help="a second grader binary, timed in the same full-lab runs (e.g. the same code built another way)",
    )
    parser.add_argument("--baseline-label", metavar="TEXT", help="its name in the report (default: its file name)")
    parser.add_argument(
        "--cohort-sizes", metavar="N,N", type=int_list,
        help=f"cohort sizes in accounts (default {DEFAULT_COHORT_SIZES}); the goals for 200 apply to the first, "
        "each other must take at most proportionally longer",
    )
    parser.add_argument(
        "--cohort-emulators", metavar="K[,K]", type=int_list, default=int_list(DEFAULT_COHORT_EMULATORS),
        help=f"emulator processes the cohort is spread over (default {DEFAULT_COHORT_EMULATORS}); "
        "more counts (e.g. 4,1) run the first cohort size again on each, for comparison",
    )
    parser.add_argument(
        "--cohort-shards", metavar="N", type=int, default=DEFAULT_COHORT_SHARDS,
        help=f"audit the largest cohort again as N shards side by side, then merge (default {DEFAULT_COHORT_SHARDS}; 0: skip)",
    )
    parser.add_argument(
        "--only", choices=["lab", "cohort", "floor"], help="run one part only (for trying the script; the report lacks the others)",
    )
    parser.add_argument(
        "--report", type=Path, default=REPORT_PATH, metavar="FILE", help="where to write the report (default BENCHMARKS.md)",
    )
    args = parser.parse_args()
    if args.runs is None:
        args.runs = 2 if args.quick else 5
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.cohort_sizes is None:
        args.cohort_sizes = int_list(QUICK_COHORT_SIZES if args.quick else DEFAULT_COHORT_SIZES)
    if args.baseline_bin is not None:
        if not (args.baseline_bin.is_file() and os.access(args.baseline_bin, os.X_OK)):
            parser.error(f"--baseline-bin: no executable at {args.baseline_bin}")
        args.baseline_bin = args.baseline_bin.resolve()
        args.baseline_label = args.baseline_label or args.baseline_bin.name
    return args


def int_list(text: str) -> list[int]:
    """`200,2000` -> [200, 2000]: positive, no repeats."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not values or min(values) < 1 or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"expected distinct positive numbers: {text!r}")
    return values


BUILD_HEADING = "## Build times"


def kept_build_section(path: Path) -> str:
    """The report's hand-measured "Build times" section, carried over unchanged.

    Cold builds take many minutes and need an empty target directory, so this script
    does not measure them; whoever measures one writes this section (the last in the
    file), and a new benchmark run keeps it.
    """
    try:
        text = path.read_text()
    except OSError:
        return ""
    at = text.find("\n" + BUILD_HEADING)
    return "" if at < 0 else text[at:]


def main() -> int:
    args = parse_args()
    grader = grader_binary()
    began = time.perf_counter()
    ctx = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": invocation(),
        "runs": args.runs,
        "load_start": load_average(),
        "machine": describe_machine(),
        "tools": lab_tools(grader, args.baseline_bin, args.baseline_label),
        "baseline_label": args.baseline_label,
    }
    labs: list[LabFigures] = []
    cohorts: list[CohortFigures] = []
    floor = None
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        workdir = Path(tmp)
        isolate_own_aws_config(workdir)
        ctx["code"] = describe_code(grader, args.baseline_bin, workdir)
        ctx["rss_floor_bytes"] = run(["true"], base_env(workdir)).max_rss_bytes
        try:
            if args.only in (None, "lab"):
                labs = [bench_lab(latency, ctx["tools"], args.runs, workdir) for latency in LAB_LATENCIES_MS]
            if args.only in (None, "cohort"):
                cohorts = bench_cohorts(
                    grader, args.cohort_sizes, args.cohort_emulators, args.runs, args.cohort_shards, workdir, args.baseline_bin
                )
            if args.only in (None, "floor"):
                floor = call_floor.bench_floor(
                    FLOOR_QUICK_CALLS if args.quick else FLOOR_CALLS, [0, COHORT_LATENCY_MS], base_env(workdir),
                    str(VENV_BIN / "python"), log,
                )
        except (BenchError, EmulatorError, TimeoutError, BotoCoreError, ClientError, call_floor.FloorError) as e:
            log(f"FAILED: {e}")
            return 1
    ctx["load_end"] = load_average()
    ctx["elapsed"] = time.perf_counter() - began
    goal_list = goals(labs, cohorts, int(ctx["machine"]["nproc"]), floor)
    report = render_report(ctx, labs, cohorts, floor, goal_list) + kept_build_section(args.report)
    args.report.write_text(report)
    print(report)
    log(f"wrote {args.report}; " + ", ".join(f"{'met' if g.met else 'MISSED'}: {g.text}" for g in goal_list))
    return 0


if __name__ == "__main__":
    sys.exit(main())

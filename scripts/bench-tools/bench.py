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
   Each tool runs once untimed (its AWS calls are counted from the request log, and all
   three must report every check passing), then `--runs` timed runs, interleaved.
   With latency L no tool can finish before (longest chain of dependent AWS calls) x L;
   the grader's chain is `LATENCY_CHAIN`.
2. A cohort of 200 accounts at 20 ms per call: `grader cohort` with 16 accounts at a time
   (`--runs` runs) against the same with 1 (sequential, one run): wall time and peak RSS,
   after each JSON report is checked (158 pass, 32 fail, 10 error, each account as expected).

Then it prints the figures and the goals (met, or missed by how much) as Markdown and
writes them to BENCHMARKS.md. Exit status: 0 when the benchmark ran (goals met or not),
1 when a tool gave a wrong verdict or something broke, 2 on a usage or setup problem.
"""

from __future__ import annotations

import argparse
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
COHORT_EXPECTED_SUMMARY = {"pass": 158, "fail": 32, "error": 10}
SETUP_THREADS = 32

# The longest chain of AWS calls the grader must make one after another for the lab: it
# connects first (identity), then follows the service's task to its network interface to
# find the public IP. Everything else can overlap with this chain.
LATENCY_CHAIN = ["sts:GetCallerIdentity", "ecs:ListTasks", "ecs:DescribeTasks", "ec2:DescribeNetworkInterfaces"]

# Goals (from the issue); every ratio is measured within one run of this script.
GOAL_VS_CLI = 20.0  # grader at least this many times faster than the AWS CLI script
GOAL_VS_BOTO3 = 3.0  # ... and than the sequential boto3 script
GOAL_VS_BOUND = 1.5  # grader's median at most this many times the latency bound
GOAL_COHORT_SECONDS = 10.0
GOAL_COHORT_RSS_MB = 100.0

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, str(TOOLS_DIR))
import aws_setup  # noqa: E402
from botocore.exceptions import BotoCoreError, ClientError  # noqa: E402
from emulator import Emulator, EmulatorError  # noqa: E402


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
    return Run(measured["exit"], stdout, stderr, measured["seconds"], measured["max_rss_bytes"])


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


def lab_tools(grader: Path) -> list[Tool]:
    return [
        Tool("grader", "`grader check --all`", [str(grader), "check", "--all", "--format", "json"], "grader-json"),
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
        env = aws_env(workdir, emulator.url, workdir / f"grader-state-lab-{latency_ms}ms")

        verdicts, calls, emulator_cpu = {}, {}, {}
        for tool in tools:
            before, cpu_before = emulator.request_count(), emulator.cpu_seconds()
            verdicts[tool.name] = passing_verdicts(tool, run(tool.command, env))
            emulator_cpu[tool.name] = emulator.cpu_seconds() - cpu_before
            calls[tool.name] = Counter(f"{c['service']}:{c['action']}" for c in emulator.requests_since(before))
        assert_agreement(verdicts)

        times: dict[str, list[float]] = {tool.name: [] for tool in tools}
        for i in range(runs):
            log(f"lab at {latency_ms} ms: timed run {i + 1}/{runs}")
            for tool in tools:
                result = run(tool.command, env)
                passing_verdicts(tool, result)
                times[tool.name].append(result.seconds)
    checks = list(verdicts[tools[0].name])
    return LabFigures(latency_ms, setup_seconds, checks, times, calls, emulator_cpu)


# ---------------------------------------------------------------------------------------
# The cohort: 200 accounts, 16 at a time against one at a time


@dataclass
class CohortRun:
    seconds: float
    max_rss_bytes: int
    summary: dict[str, int]
    calls: int  # AWS calls the run made (request log)
    emulator_cpu_seconds: float  # CPU the emulator spent answering them


@dataclass
class CohortFigures:
    accounts: int
    setup_seconds: float
    runs: dict[int, list[CohortRun]] = field(default_factory=dict)  # by concurrency


def bench_cohort(grader: Path, runs: int, workdir: Path) -> CohortFigures:
    log(f"cohort at {COHORT_LATENCY_MS} ms: starting the emulator")
    options = ["--strict-assume-role", "--latency-ms", str(COHORT_LATENCY_MS)]
    with Emulator(ROOT, workdir, "emulator-cohort", options, base_env(workdir)) as emulator:
        kinds = aws_setup.class_kinds()
        account_ids = aws_setup.class_account_ids(len(kinds))
        log(f"cohort: setting up {len(kinds)} accounts on {SETUP_THREADS} threads")
        started = time.perf_counter()
        aws_setup.set_up_class(emulator.url, list(zip(account_ids, kinds)), threads=SETUP_THREADS)
        figures = CohortFigures(len(kinds), time.perf_counter() - started)
        log(f"cohort: set up in {figures.setup_seconds:.1f} s")
        roster = workdir / "roster.csv"
        roster.write_text(aws_setup.roster_csv(account_ids))
        expected = {a: aws_setup.EXPECTED_STATUS[k] for a, k in zip(account_ids, kinds)}

        plan = [(COHORT_CONCURRENCY, i) for i in range(runs)] + [(1, 0)]
        for concurrency, i in plan:
            log(f"cohort: --concurrency {concurrency}, run {i + 1}")
            audit = audit_cohort(grader, emulator, roster, concurrency, expected, workdir, f"cohort-c{concurrency}-{i}")
            figures.runs.setdefault(concurrency, []).append(audit)
    return figures


def audit_cohort(
    grader: Path, emulator: Emulator, roster: Path, concurrency: int, expected: dict[str, str], workdir: Path, name: str
) -> CohortRun:
    """One timed `grader cohort` run, its report checked account by account."""
    rundir = workdir / name
    rundir.mkdir(parents=True)
    output = rundir / "report.json"
    command = [
        str(grader), "cohort", "--roster", str(roster), "--concurrency", str(concurrency),
        "--scan-regions", COHORT_SCAN_REGIONS, "--format", "json", "--output", str(output),
    ]
    calls_before, cpu_before = emulator.request_count(), emulator.cpu_seconds()
    result = run(command, aws_env(workdir, emulator.url, rundir / "grader-state"))
    calls, cpu = emulator.request_count() - calls_before, emulator.cpu_seconds() - cpu_before
    if result.code != 1 or not output.exists():
        raise BenchError(f"grader cohort: exit {result.code}, expected 1 (some accounts fail)\n{tail(result.stderr)}")
    report = json.loads(output.read_text())
    summary = {k: report["summary"].get(k) for k in COHORT_EXPECTED_SUMMARY}
    wrong = [
        f"{a['account_id']}: {a['status']} (expected {expected.get(a['account_id'])}) {a.get('error') or ''}"
        for a in report["accounts"]
        if a["status"] != expected.get(a["account_id"])
    ]
    if summary != COHORT_EXPECTED_SUMMARY or wrong or len(report["accounts"]) != len(expected):
        raise BenchError(f"grader cohort misclassified accounts: summary {summary}\n" + "\n".join(wrong[:20]))
    return CohortRun(result.seconds, result.max_rss_bytes, summary, calls, cpu)


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


def goals(lab: LabFigures, cohort: CohortFigures) -> list[Goal]:
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
    concurrent = cohort.runs[COHORT_CONCURRENCY]
    wall = median([r.seconds for r in concurrent])
    found.append(Goal(
        f"Cohort of {cohort.accounts} at {COHORT_LATENCY_MS} ms: wall time",
        f"< {GOAL_COHORT_SECONDS:g} s",
        fmt_seconds(wall),
        wall < GOAL_COHORT_SECONDS,
        f"met, {fmt_seconds(GOAL_COHORT_SECONDS - wall)} to spare" if wall < GOAL_COHORT_SECONDS
        else f"missed by {fmt_seconds(wall - GOAL_COHORT_SECONDS)}",
    ))
    rss_mb = max(r.max_rss_bytes for r in concurrent) / 1e6
    found.append(Goal(
        f"Cohort of {cohort.accounts} at {COHORT_LATENCY_MS} ms: peak RSS",
        f"< {GOAL_COHORT_RSS_MB:g} MB",
        f"{rss_mb:.1f} MB",
        rss_mb < GOAL_COHORT_RSS_MB,
        f"met, {GOAL_COHORT_RSS_MB - rss_mb:.1f} MB to spare" if rss_mb < GOAL_COHORT_RSS_MB
        else f"missed by {rss_mb - GOAL_COHORT_RSS_MB:.1f} MB",
    ))
    return found


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


def describe_code(grader: Path, workdir: Path) -> dict[str, str]:
    def output(command: list[str]) -> str:
        try:
            return run(command, base_env(workdir)).stdout.strip()
        except OSError:
            return ""

    commit = output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]) or "unknown"
    if output(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"]):
        commit += " (with uncommitted changes)"
    try:
        shown = str(grader.relative_to(ROOT))
    except ValueError:
        shown = str(grader)
    profile = "release" if "release" in grader.parts else "debug" if "debug" in grader.parts else "unknown profile"
    return {"grader": shown, "profile": profile, "version": output([str(grader), "--version"]) or "unknown", "commit": commit}


def invocation() -> str:
    prefix = f"GRADER_BIN={shlex.quote(os.environ['GRADER_BIN'])} " if os.environ.get("GRADER_BIN") else ""
    return prefix + shlex.join(["scripts/bench", *sys.argv[1:]])


def calls_total(calls: Counter) -> int:
    return sum(calls.values())


def render_report(ctx: dict, labs: list[LabFigures], cohort: CohortFigures, goal_list: list[Goal]) -> str:
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
        f"- Grader: `{code['grader']}` ({code['profile']} build, {code['version']}), commit {code['commit']}",
        f"- Timed runs: {ctx['runs']} per tool and latency (interleaved), after one untimed run that counts its AWS calls",
        "- Emulator: `tests/emulator/server.py` (moto) on 127.0.0.1, one process per latency, each with its own request log",
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
    goal_lab = next(lab for lab in labs if lab.latency_ms == GOAL_LATENCY_MS)
    out += calls_table(goal_lab, names)
    out += cohort_section(cohort, ctx["rss_floor_bytes"])
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


def cohort_section(cohort: CohortFigures, rss_floor_bytes: int) -> list[str]:
    out = [
        "",
        f"## Cohort: {cohort.accounts} accounts, {COHORT_LATENCY_MS} ms per AWS call",
        "",
        f"`grader cohort --roster FILE --concurrency N --scan-regions {COHORT_SCAN_REGIONS} --format json --output FILE` "
        f"(cleanup audit through `sts:AssumeRole` into each account, emulator with `--strict-assume-role`). "
        f"Every run's JSON report was checked account by account: "
        + ", ".join(f"{n} {k}" for k, n in COHORT_EXPECTED_SUMMARY.items())
        + f". Class set up with boto3 on {SETUP_THREADS} threads in {fmt_seconds(cohort.setup_seconds)} (not timed).",
        "",
        "| concurrency | runs | wall time, median | spread (min – max) | peak RSS (max) | AWS calls per run | emulator CPU per run (median) |",
        "|---|---|---|---|---|---|---|",
    ]
    for concurrency, runs in sorted(cohort.runs.items(), reverse=True):
        times = [r.seconds for r in runs]
        label = f"{concurrency}" + (" (sequential)" if concurrency == 1 else "")
        calls = sorted({r.calls for r in runs})
        out.append(
            f"| {label} | {len(runs)} | {fmt_seconds(median(times))} | {spread(times)} | {fmt_mb(max(r.max_rss_bytes for r in runs))} "
            f"| {'–'.join(map(str, calls))} | {fmt_seconds(median([r.emulator_cpu_seconds for r in runs]))} |"
        )
    sequential = median([r.seconds for r in cohort.runs[1]])
    concurrent_runs = cohort.runs[COHORT_CONCURRENCY]
    concurrent = median([r.seconds for r in concurrent_runs])
    busy = median([r.emulator_cpu_seconds / r.seconds for r in concurrent_runs])
    out += [
        "",
        f"Concurrency {COHORT_CONCURRENCY} is {sequential / concurrent:.1f}× faster than one account at a time. "
        f"At concurrency {COHORT_CONCURRENCY} the emulator (one Python process) was busy on the CPU {busy:.0%} of the "
        "wall time (near 100% means the emulator's speed, more than the grader's, sets the wall time).",
        "",
        f"Peak RSS is the grader's `ru_maxrss` from `os.wait4`, started from the small launcher "
        f"`scripts/bench-tools/measure.py` (Linux counts the starting process's size in a child's peak, so the "
        f"figure cannot go below the launcher's {fmt_mb(rss_floor_bytes)}, measured with `true`). 1 MB = 10⁶ bytes.",
    ]
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
        help="timed runs of each tool at each latency, and of the concurrent cohort audit "
        "(default 5; the sequential cohort audit runs once)",
    )
    parser.add_argument("--quick", action="store_true", help="2 timed runs instead of 5, for trying the script")
    args = parser.parse_args()
    if args.runs is None:
        args.runs = 2 if args.quick else 5
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


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
        "tools": lab_tools(grader),
    }
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        workdir = Path(tmp)
        isolate_own_aws_config(workdir)
        ctx["code"] = describe_code(grader, workdir)
        ctx["rss_floor_bytes"] = run(["true"], base_env(workdir)).max_rss_bytes
        try:
            labs = [bench_lab(latency, ctx["tools"], args.runs, workdir) for latency in LAB_LATENCIES_MS]
            cohort = bench_cohort(grader, args.runs, workdir)
        except (BenchError, EmulatorError, TimeoutError, BotoCoreError, ClientError) as e:
            log(f"FAILED: {e}")
            return 1
    ctx["load_end"] = load_average()
    ctx["elapsed"] = time.perf_counter() - began
    goal_list = goals(next(lab for lab in labs if lab.latency_ms == GOAL_LATENCY_MS), cohort)
    report = render_report(ctx, labs, cohort, goal_list)
    REPORT_PATH.write_text(report)
    print(report)
    log(f"wrote {REPORT_PATH.relative_to(ROOT)}; " + ", ".join(f"{'met' if g.met else 'MISSED'}: {g.text}" for g in goal_list))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Start and stop the course's AWS emulator (tests/emulator/server.py) for the benchmark.

The emulator listens on 127.0.0.1 only, on a port it picks, and logs every API call as one
JSON line in its own request log; the benchmark counts AWS calls from that log.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path

READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0


class EmulatorError(RuntimeError):
    pass


class Emulator:
    """One emulator process; use as a context manager so it always stops."""

    def __init__(self, root: Path, workdir: Path, name: str, options: list[str], env: dict[str, str]):
        self.root = root
        self.dir = workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.request_log = self.dir / "requests.jsonl"
        self.stderr_path = self.dir / "stderr.txt"
        self.options = options
        self.env = env
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Emulator":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def command(self) -> list[str]:
        return [
            str(self.root / ".venv/bin/python"),
            str(self.root / "tests/emulator/server.py"),
            "--host", "127.0.0.1",
            "--port", "0",
            "--request-log", str(self.request_log),
            *self.options,
        ]

    def start(self) -> None:
        self.launch()
        self.wait_until_ready()

    def launch(self) -> None:
        """Starts the process without waiting for it (several can then load moto at once)."""
        self.request_log.touch()
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                self.command(), cwd=self.root, env=self.env,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
            )

    def wait_until_ready(self) -> None:
        self.url = self._wait_for_ready()

    def _wait_for_ready(self) -> str:
        """Reads stdout until the `ready http://127.0.0.1:PORT` line."""
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        buffered = b""
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.process.stdout], [], [], 0.5)
            if readable:
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    break
                buffered += chunk
                for line in buffered.decode("utf-8", "replace").splitlines():
                    if line.startswith("ready "):
                        url = line.split(" ", 1)[1].strip()
                        if not url.startswith("http://127.0.0.1:"):
                            raise EmulatorError(f"emulator is not on loopback: {url}")
                        return url
            elif self.process.poll() is not None:
                break
        self.stop()
        raise EmulatorError(f"the emulator did not print `ready` ({self.stderr_tail()})")

    def stop(self) -> None:
        """SIGTERM to our own child, then wait; SIGKILL only if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def stderr_tail(self, lines: int = 20) -> str:
        text = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:]) or "no stderr"

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the emulator process has used so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def request_count(self) -> int:
        """Lines in the request log so far (one per API call)."""
        with open(self.request_log, "rb") as f:
            return sum(1 for _ in f)

    def requests_since(self, count: int) -> list[dict]:
        """The API calls logged after the first `count` lines."""
        with open(self.request_log, encoding="utf-8") as f:
            return [json.loads(line) for i, line in enumerate(f) if i >= count and line.strip()]


class KeepAliveFront:
    """`keepalive_proxy.py` before one emulator: the grader's connections stay open, as AWS
    keeps them (the emulator closes every connection after one answer)."""

    def __init__(self, root: Path, emulator: Emulator):
        self.process = subprocess.Popen(
            [str(root / ".venv/bin/python"), str(root / "scripts/bench-tools/keepalive_proxy.py"), "--target", emulator.url],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()
        if not line.startswith("ready http://127.0.0.1:"):
            self.stop()
            raise EmulatorError(f"the keep-alive front did not start: {line!r}")
        self.url = line.split(" ", 1)[1]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

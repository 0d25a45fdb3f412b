"""A local instance on this machine: a private Redis (unless one is given) and the
service and worker processes a command needs, on 127.0.0.1 only.

Used by `moderator dev`, `moderator bench load --local` and `moderator bench intake`.
Each process inherits the environment (over the caller's `defaults`), with the
instance's `MODERATOR_REDIS_URL` and the caller's `env` on top. Its stderr goes to
the terminal, nowhere, or a log file whose end is quoted when the process exits
before the instance is ready.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

from moderator.errors import ModeratorError
from moderator.local.redis_server import PrivateRedis

LOG_TAIL_CHARS = 2000  # of a process's stderr, quoted when it exits early
# Where no toxicity model can be had, a local worker holds every comment with
# check_failed.toxicity instead of refusing to start (unless the environment says).
HOLD_WITHOUT_MODEL = {"MODERATOR_TOXICITY_FALLBACK": "hold"}


class Output(StrEnum):
    TERMINAL = "terminal"  # stdout and stderr as this process's (moderator dev)
    DISCARD = "discard"  # both thrown away
    LOG = "log"  # stdout thrown away, stderr kept in a file (quoted on an early exit)
    LOG_ALL = "log-all"  # both kept in that file: a worker's log lines (`events`)


class LocalInstance:
    """Start with `start()` (or `with`), add processes with `spawn`, wait for them with
    `wait_until`; `stop()` ends the processes, then the private Redis."""

    def __init__(
        self,
        *,
        redis_url: str | None = None,
        appendfsync: str = "everysec",
        env: Mapping[str, str] | None = None,
        defaults: Mapping[str, str] | None = None,
    ) -> None:
        """`env` overrides the environment the processes inherit; `defaults` apply
        where the environment has no value."""
        private = PrivateRedis(appendfsync=appendfsync) if redis_url is None else None
        self.private = private
        self.redis_url = private.url if private is not None else str(redis_url)
        self._env = {
            **(defaults or {}),
            **os.environ,
            "MODERATOR_REDIS_URL": self.redis_url,
            **(env or {}),
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: tempfile.TemporaryDirectory[str] | None = None

    def start(self) -> None:
        """Start the private Redis, if this instance has one."""
        if self.private is not None:
            self.private.start()

    def spawn(
        self,
        name: str,
        args: Sequence[str],
        *,
        output: Output = Output.LOG,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Run `python ARGS…` (this interpreter) as `name`, with `env` on top of the
        instance's environment."""
        command = [sys.executable, *args]
        environ = {**self._env, **(env or {})}
        if output in (Output.LOG, Output.LOG_ALL):
            with self._log(name).open("wb") as stderr:
                stdout = stderr if output is Output.LOG_ALL else subprocess.DEVNULL
                process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
                    command, env=environ, stdout=stdout, stderr=stderr
                )
        elif output is Output.DISCARD:
            process = subprocess.Popen(  # noqa: S603
                command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        else:
            process = subprocess.Popen(command, env=environ)  # noqa: S603
        self.processes[name] = process
        return process

    def wait_until(self, check: Callable[[], bool], *, timeout_s: float, failure: str) -> None:
        """Poll `check` until it holds. `ModeratorError` at once when a process exits
        (with the end of its log), or with `failure` after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    said = self._tail(name)
                    raise ModeratorError(
                        f"the {name} exited with {process.returncode}"
                        + (f":\n{said}" if said else "")
                    )
            if check():
                return
            time.sleep(0.1)
        raise ModeratorError(failure)

    def peak_rss_mb(self) -> dict[str, float]:
        """Peak resident memory (VmHWM) of each process so far."""
        peaks = {}
        for name, process in self.processes.items():
            try:
                status = Path(f"/proc/{process.pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks[name] = round(int(line.split()[1]) / 1024, 1)
        return peaks

    def stop(self, grace_s: float = 30.0) -> None:
        """SIGTERM every process, SIGKILL those still running after `grace_s`; then the
        private Redis goes, with its data, and the logs."""
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        if self.private is not None:
            self.private.close()
        if self._logs is not None:
            self._logs.cleanup()
            self._logs = None

    def __enter__(self) -> LocalInstance:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def events(self, name: str) -> list[dict[str, Any]]:
        """The JSON log lines of a process spawned with `Output.LOG_ALL`, so far."""
        if self._logs is None:
            return []
        try:
            lines = (Path(self._logs.name) / f"{name}.log").read_text(errors="replace")
        except OSError:
            return []
        found = []
        for line in lines.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                found.append(event)
        return found

    def _log(self, name: str) -> Path:
        if self._logs is None:
            self._logs = tempfile.TemporaryDirectory(prefix="moderator-local-")
        return Path(self._logs.name) / f"{name}.log"

    def _tail(self, name: str) -> str:
        """The end of the process's stderr, when it went to a log ("" otherwise)."""
        if self._logs is None:
            return ""
        try:
            text = (Path(self._logs.name) / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""
        return text.strip()[-LOG_TAIL_CHARS:]


def answers(url: str) -> bool:
    """Something serves HTTP at `url`, whatever the status it answers."""
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - 127.0.0.1 only
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def ready_with_workers(base_url: str, workers: int = 1) -> bool:
    """The service at `base_url` is ready and sees at least `workers` live workers."""
    try:
        with urllib.request.urlopen(f"{base_url}/readyz", timeout=1) as response:  # noqa: S310
            return int(json.loads(response.read()).get("workers", 0)) >= workers
    except (OSError, ValueError):
        return False

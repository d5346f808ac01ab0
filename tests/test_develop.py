"""scripts/develop as a process: when one server exits, the other is stopped, the
one that died is named with the end of its log, and the exit status is non-zero.

Each test runs scripts/develop with its own config folder and free ports
(`ATHENA_DEV_CONFIG`, `ATHENA_HA_PORT`, `ATHENA_LLM_PORT`), as the satellite's
end-to-end test does, without its scripts/setup step (`ATHENA_DEV_SETUP=0`), and
kills one server. It needs the llama.cpp server (`.venv-llm`, made by scripts/setup).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
import os
from pathlib import Path
import re
import signal
import socket
import subprocess
import time

import pytest

from .real_llm import ROOT, free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (ROOT / ".venv-llm" / "bin" / "python").exists(),
        reason="needs .venv-llm (scripts/setup)",
    ),
]


@dataclass
class Develop:
    """A running scripts/develop: its process, output so far and the servers' pids."""

    proc: subprocess.Popen[str]
    ha_port: int
    output: list[str] = field(default_factory=list)
    hass_pid: int = 0
    llama_pid: int = 0

    def read_until(self, start: str, seconds: float) -> str:
        """Read output lines until one starts with `start`; fail on exit or timeout."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                pytest.fail(f"scripts/develop exited {self.proc.wait()}:\n{self.text}")
            self.output.append(line)
            if line.startswith(start):
                return line
        pytest.fail(f"no {start!r} within {seconds} s:\n{self.text}")

    def finish(self, seconds: float) -> int:
        """The exit status, once the rest of the output is read."""
        assert self.proc.stdout is not None
        status = self.proc.wait(seconds)
        self.output.extend(self.proc.stdout.readlines())
        return status

    @property
    def text(self) -> str:
        """The output so far."""
        return "".join(self.output)


@pytest.fixture
def develop(tmp_path: Path, socket_enabled: None) -> Iterator[Develop]:
    """scripts/develop started on free ports; the servers' pids read from its output."""
    ha_port = free_port()
    env = {
        **os.environ,
        "ATHENA_DEV_CONFIG": str(tmp_path / "config"),
        "ATHENA_HA_PORT": str(ha_port),
        "ATHENA_LLM_PORT": str(free_port()),
        "ATHENA_DEV_SETUP": "0",  # the environments exist; a test must not rebuild them
    }
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "develop")],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    run = Develop(proc, ha_port)
    try:
        started = run.read_until("develop: starting", 600)
        pids = re.findall(r"\(pid (\d+)", started)
        run.hass_pid, run.llama_pid = (int(p) for p in pids)
        yield run
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)


def gone(pid: int) -> bool:
    """Whether no process has `pid`."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def port_closed(port: int) -> bool:
    """Whether nothing accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_llama_server_dies_and_home_assistant_is_stopped(develop: Develop) -> None:
    develop.read_until("Home Assistant is ready", 600)
    os.kill(develop.llama_pid, signal.SIGKILL)
    assert develop.finish(90) == 1, develop.text
    assert (
        "develop: the llama.cpp server exited (status 137); the last lines of "
        ".cache/develop-llama.log:" in develop.text
    )
    assert re.search(r"^  \| .*Uvicorn running on", develop.text, re.M), develop.text
    assert gone(develop.hass_pid)
    assert port_closed(develop.ha_port)


def test_home_assistant_dies_and_the_llama_server_is_stopped(
    develop: Develop,
) -> None:
    os.kill(develop.hass_pid, signal.SIGKILL)
    assert develop.finish(90) == 1, develop.text
    assert (
        "develop: Home Assistant exited (status 137); the last lines of "
        ".cache/develop-hass.log:" in develop.text
    )
    assert gone(develop.llama_pid)

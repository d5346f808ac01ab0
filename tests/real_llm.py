"""A real llama.cpp server (scripts/llama-server, SmolLM2-135M) for e2e and benches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import json
from pathlib import Path
import socket
import subprocess
import time
import urllib.request

ROOT = Path(__file__).parent.parent
MODEL_ALIAS = "smollm2-135m"


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def llama_server(*extra: str, start_timeout: float = 60) -> Iterator[str]:
    """Run scripts/llama-server on a free port; yield its base URL, stop it after.

    Raises RuntimeError when the server does not list its model within
    `start_timeout` seconds (its log is in the message).
    """
    port = free_port()
    log = ROOT / ".cache" / f"llama-server-{port}.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(ROOT / "scripts" / "llama-server"), "--port", str(port), *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/v1/models", timeout=2) as response:
                    if json.load(response)["data"]:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"llama server did not start:\n{log.read_text()}")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)

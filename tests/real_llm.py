"""Real LLM servers with SmolLM2-135M for the e2e tests and benches: llama.cpp's
(scripts/llama-server) and mlx_lm.server (.venv-mlx).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import json
import os
from pathlib import Path
import socket
import subprocess
import time
import urllib.request

ROOT = Path(__file__).parent.parent
MODEL_ALIAS = "smollm2-135m"
# SmolLM2-135M-Instruct in MLX format (no package ships one; the issue points here).
# mlx_lm.server wants this path as the request's `model`.
MLX_MODEL = os.environ.get(
    "ATHENA_MLX_MODEL",
    str(ROOT.parent / "shared" / "models" / "smollm2-135m-instruct-mlx-q4"),
)


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str, model: str) -> bool:
    """Whether the server at `url` answers a one-token chat request from `model`."""
    body = json.dumps(
        {
            "model": model,
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 1,
        }
    ).encode()
    request = urllib.request.Request(
        f"{url}/v1/chat/completions", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return bool(json.load(response)["choices"])


@contextmanager
def _serve(
    name: str,
    command: list[str],
    ready: str,
    start_timeout: float,
    model: str,
    **env: str,
) -> Iterator[str]:
    """Run `command` (which takes `--port`) on a free port until it answers a chat.

    Ready means `ready` answers 200 and then a one-token chat request from `model`
    gets a reply (a build that cannot run on this CPU dies there). Yields the base
    URL; stops the process after. Raises RuntimeError with the server's log when
    it does not become ready within `start_timeout` seconds, or when it died
    while in use.
    """
    port = free_port()
    log = ROOT / ".cache" / f"{name}-{port}.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
        )
    url = f"http://127.0.0.1:{port}"

    def died(when: str) -> RuntimeError:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        return RuntimeError(
            f"{name} died {when} (exit code {proc.poll()}); log {log}:\n{tail}"
        )

    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}{ready}", timeout=2) as response:
                    if (
                        response.status == 200
                        and json.load(response)
                        and _answers(url, model)
                    ):
                        break
            except OSError, ValueError, KeyError:
                pass
            if proc.poll() is not None:
                raise died("while starting")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{log.read_text()}")
            time.sleep(0.25)
        yield url
        if proc.poll() is not None:
            raise died("during the test")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def llama_server(*extra: str, start_timeout: float = 60) -> Iterator[str]:
    """Run scripts/llama-server (SmolLM2 GGUF) on a free port; yield its base URL."""
    with _serve(
        "llama-server",
        [str(ROOT / "scripts" / "llama-server"), *extra],
        "/v1/models",
        start_timeout,
        MODEL_ALIAS,
    ) as url:
        yield url


@contextmanager
def mlx_server(start_timeout: float = 60) -> Iterator[str]:
    """Run mlx_lm.server (.venv-mlx) with `MLX_MODEL` on a free port; yield its URL.

    Offline (`HF_HUB_OFFLINE=1`): the model is a local folder, nothing is fetched.
    """
    python = ROOT / ".venv-mlx" / "bin" / "python"
    if not python.exists():
        raise RuntimeError("run scripts/setup first: .venv-mlx is missing")
    command = [str(python), "-m", "mlx_lm", "server", "--model", MLX_MODEL]
    with _serve(
        "mlx-server",
        [*command, "--host", "127.0.0.1"],
        "/health",
        start_timeout,
        MLX_MODEL,
        HF_HUB_OFFLINE="1",
    ) as url:
        yield url

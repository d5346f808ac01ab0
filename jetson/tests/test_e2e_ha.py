"""End to end: a WAV through the satellite into a real Home Assistant with Athena.

Home Assistant, the llama.cpp server and Athena start as `scripts/develop` starts them
(its own config folder and free ports), with HA's demo devices.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from athena_satellite.audio import read_wav, write_wav
from training import speech

from .conftest import join, words

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
LIGHT = "light.kitchen_lights"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Instance:
    """A running scripts/develop: its URL, token and Athena's agent id."""

    def __init__(self, url: str, config: Path) -> None:
        self.url = url
        self.token = (config / ".athena_token").read_text().strip()
        self.agent = (config / ".athena_agent").read_text().strip()

    def rest(self, path: str, body: dict | None = None) -> object:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


@pytest.fixture(scope="module")
def home_assistant(tmp_path_factory) -> Iterator[Instance]:
    config = tmp_path_factory.mktemp("ha") / "config"
    port = free_port()
    env = {
        **os.environ,
        "ATHENA_DEV_CONFIG": str(config),
        "ATHENA_HA_PORT": str(port),
        "ATHENA_LLM_PORT": str(free_port()),
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
    output = []
    try:
        deadline = time.monotonic() + 600
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"scripts/develop exited {proc.wait()}:\n{''.join(output)}")
            output.append(line)
            if line.startswith("Home Assistant is ready"):
                break
        else:
            pytest.fail(f"scripts/develop not ready in 600 s:\n{''.join(output)}")
        yield Instance(f"http://127.0.0.1:{port}", config)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)


def test_hey_jarvis_turn_on_the_kitchen_lights(
    home_assistant: Instance, tmp_path: Path
) -> None:
    home_assistant.rest("/api/services/light/turn_off", {"entity_id": LIGHT})
    assert home_assistant.rest(f"/api/states/{LIGHT}")["state"] == "off"
    (tmp_path / "token").write_text(home_assistant.token)
    config = tmp_path / "satellite.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "home_assistant": {
                    "url": home_assistant.url.replace("http", "ws") + "/api/websocket",
                    "token_file": str(tmp_path / "token"),
                },
                "wake_words": [
                    {
                        "name": "jarvis",
                        "model": "hey_jarvis",
                        "agent_id": home_assistant.agent,
                    }
                ],
                "audio": {"chime": False},
            }
        )
    )
    wav, out = tmp_path / "command.wav", tmp_path / "reply.wav"
    write_wav(
        wav,
        join(
            speech.silence(0.5),
            speech.piper("Hey Jarvis, turn on the kitchen lights."),
            speech.silence(0.5),
        ),
        16000,
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "athena_satellite",
            "process",
            "--wav",
            str(wav),
            "--out",
            str(out),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    turn = json.loads(result.stdout)
    assert turn["wake_word"] == "jarvis" and turn["agent_id"] == home_assistant.agent
    assert "kitchen" in words(turn["text"])
    assert turn["pipeline"]  # Athena's pipeline (scripts/develop): the reply streamed
    assert home_assistant.rest(f"/api/states/{LIGHT}")["state"] == "on"
    reply = read_wav(out)
    assert len(reply) > 16000 * 0.3
    assert turn["reply"]

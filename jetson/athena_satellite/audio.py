"""Audio in and out: 16 kHz mono int16 chunks from ALSA or a WAV file; ALSA/WAV sinks.

Chunks are 80 ms (1,280 samples), openWakeWord's frame: the wake-word stage takes
them as they are, the VAD splits them into its own 10/20/30 ms frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import logging
import math
from pathlib import Path
import subprocess
import time
from typing import Protocol
import wave

import numpy as np
from scipy.signal import resample_poly

_LOGGER = logging.getLogger(__name__)
RATE = 16000
CHUNK_SAMPLES = 1280

Chunk = np.ndarray  # shape (CHUNK_SAMPLES,), dtype int16


class MicrophoneError(Exception):
    """The capture device failed or stopped delivering audio."""


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample int16 `audio` (shape (n,)) with a polyphase filter; returns int16."""
    if rate_in == rate_out:
        return audio
    g = math.gcd(rate_in, rate_out)
    out = resample_poly(audio.astype(np.float32), rate_out // g, rate_in // g)
    return np.clip(out, -32768, 32767).astype(np.int16)


def read_wav(path: Path) -> np.ndarray:
    """Read a WAV file as 16 kHz mono int16 (shape (n,)); other rates are resampled.

    Raises ValueError for a file that is not 16-bit PCM.
    """
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(
                f"{path}: 16-bit PCM WAV needed, got {8 * wav.getsampwidth()}-bit"
            )
        rate, channels = wav.getframerate(), wav.getnchannels()
        audio = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    if channels > 1:
        audio = audio.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return resample(audio, rate, RATE)


def write_wav(path: Path, audio: np.ndarray, rate: int) -> None:
    """Write int16 mono `audio` at `rate` Hz to `path`."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(audio.astype(np.int16).tobytes())


def chunks(audio: np.ndarray) -> Iterator[Chunk]:
    """Split 16 kHz int16 audio into 80 ms chunks; the last is zero-padded."""
    for start in range(0, len(audio), CHUNK_SAMPLES):
        chunk = audio[start : start + CHUNK_SAMPLES]
        if len(chunk) < CHUNK_SAMPLES:
            chunk = np.pad(chunk, (0, CHUNK_SAMPLES - len(chunk)))
        yield chunk


def _alsa(tool: str, device: str, rate: int) -> list[str]:
    """Return the arecord/aplay command for raw 16-bit mono audio at `rate` Hz."""
    return [
        tool,
        "-q",
        "-D",
        device,
        "-f",
        "S16_LE",
        "-r",
        str(rate),
        "-c",
        "1",
        "-t",
        "raw",
    ]


def arecord(device: str) -> Iterator[Chunk]:
    """Capture 80 ms chunks from an ALSA device with `arecord` (alsa-utils).

    Raises MicrophoneError when arecord cannot start or its stream ends.
    """
    cmd = _alsa("arecord", device, RATE)
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as err:
        raise MicrophoneError(f"cannot start arecord: {err}") from err
    assert proc.stdout is not None
    try:
        while True:
            data = proc.stdout.read(CHUNK_SAMPLES * 2)
            if len(data) < CHUNK_SAMPLES * 2:
                err = (
                    proc.stderr.read().decode(errors="replace").strip()
                    if proc.stderr
                    else ""
                )
                raise MicrophoneError(
                    f"arecord -D {device} stopped: {err or 'end of stream'}"
                )
            yield np.frombuffer(data, dtype=np.int16)
    finally:
        proc.kill()
        proc.wait()


class Sink(Protocol):
    """Where speech goes: `play` blocks until the audio is handed over."""

    def play(self, audio: np.ndarray, rate: int) -> None:
        """Play int16 mono `audio` at `rate` Hz."""


class AlsaSink:
    """Play through `aplay` (alsa-utils) on an ALSA device."""

    def __init__(self, device: str) -> None:
        self.device = device

    def play(self, audio: np.ndarray, rate: int) -> None:
        """Play int16 mono `audio` at `rate` Hz; raise OSError if the device fails."""
        result = subprocess.run(
            _alsa("aplay", self.device, rate),
            input=audio.astype(np.int16).tobytes(),
            capture_output=True,
            check=False,
        )
        if result.returncode:
            raise OSError(
                f"aplay -D {self.device}: {result.stderr.decode(errors='replace')}"
            )


class WavSink:
    """Collect everything played; `save` writes it as one WAV file."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []
        self.rate: int | None = None

    def play(self, audio: np.ndarray, rate: int) -> None:
        """Append int16 mono `audio` (resampled to the first part's rate)."""
        if self.rate not in (None, rate):
            audio = resample(audio, rate, self.rate)  # type: ignore[arg-type]
        else:
            self.rate = rate
        self.parts.append(audio.astype(np.int16))

    def save(self, path: Path) -> None:
        """Write what was played to `path` (an empty WAV at 16 kHz if nothing was)."""
        audio = np.concatenate(self.parts) if self.parts else np.zeros(0, np.int16)
        write_wav(path, audio, self.rate or RATE)


class WavFileSink(WavSink):
    """A WavSink that rewrites `path` after every part played (read by another process).

    The file is replaced atomically, so a reader never sees half of it.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def play(self, audio: np.ndarray, rate: int) -> None:
        """Append int16 mono `audio` at `rate` Hz and rewrite the file."""
        super().play(audio, rate)
        partial = self.path.with_suffix(".partial")
        self.save(partial)
        partial.replace(self.path)


def spool(folder: Path, ready: Callable[[], bool]) -> Iterator[Chunk]:
    """Yield a microphone's chunks made of silence and the WAV files put in `folder`.

    Chunks come at a microphone's pace (80 ms each). A `*.wav` file (oldest name
    first) is played once `ready()` is true, renamed `*.wav.played`, and followed by
    1.5 s of silence; one that is not a 16-bit PCM WAV is renamed `*.wav.rejected`
    and logged. For tests and the benchmark: another process speaks to the satellite.
    """
    start = time.monotonic()
    sent = 0
    while True:
        audio = np.zeros(CHUNK_SAMPLES, np.int16)
        queued = sorted(folder.glob("*.wav")) if ready() else []
        if queued:
            try:
                recording = read_wav(queued[0])
            except (OSError, EOFError, ValueError, wave.Error) as err:
                _LOGGER.error("cannot play %s: %s", queued[0], err)
                queued[0].rename(queued[0].with_name(queued[0].name + ".rejected"))
            else:
                queued[0].rename(queued[0].with_name(queued[0].name + ".played"))
                pad = np.zeros(int(1.5 * RATE), np.int16)
                audio = np.concatenate([recording, pad])
        for chunk in chunks(audio):
            sent += 1
            due = start + sent * CHUNK_SAMPLES / RATE
            time.sleep(max(0.0, due - time.monotonic()))
            yield chunk


def chime(rate: int, seconds: float = 0.15) -> np.ndarray:
    """Return a short two-tone chime (660 then 880 Hz), int16 at `rate`."""
    n = int(rate * seconds / 2)
    t = np.arange(n) / rate
    envelope = np.sin(np.pi * np.arange(n) / n)
    tones = [np.sin(2 * np.pi * f * t) * envelope for f in (660.0, 880.0)]
    return (np.concatenate(tones) * 0.3 * 32767).astype(np.int16)

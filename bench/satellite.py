"""Satellite speed on this CPU, stage by stage, with the real engines.

Per 80 ms chunk: CPU time of the wake-word stage (one feature pass, every configured
word: hey_jarvis and athena) and of the VAD (webrtc, silero). STT and TTS real-time
factors (processing time / audio time), TTS time to first audio, and end of speech →
first reply audio through the whole satellite with a loopback HA that answers at once
(median of 5 commands). Run with the satellite's venv:

    jetson/.venv/bin/python -m bench.satellite

Last line: end_of_speech_to_first_audio_s=<s> (targets: <= 1.5 s; wake word
<= 5 ms per chunk).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import statistics
import sys
import time

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "jetson"))

from athena_satellite.audio import CHUNK_SAMPLES, RATE, WavSink, chunks  # noqa: E402
from athena_satellite.config import Config, parse  # noqa: E402
from athena_satellite.satellite import build  # noqa: E402
from athena_satellite.stt import DEFAULT_MODEL_DIR, Transcriber  # noqa: E402
from athena_satellite.tts import Synthesizer  # noqa: E402
from athena_satellite.vad import Endpointer  # noqa: E402
from athena_satellite.wakeword import WakeWords  # noqa: E402
import numpy as np  # noqa: E402
from training import speech  # noqa: E402

from tests.fake_ha import TOKEN, FakeHA, conversation_result, serve  # noqa: E402

COMMANDS = (
    "Turn on the kitchen lights.",
    "What's the weather like tomorrow?",
    "Set a timer for ten minutes.",
    "Who won the game last night?",
    "Close the garage door.",
)
REPLY = "The kitchen lights are on. The hallway lights are still off."


def config(url: str, **vad: object) -> Config:
    return parse(
        {"home_assistant": {"url": url}, "audio": {"chime": False}, "vad": vad}
    )


def cpu_ms_per_chunk(process, audio: np.ndarray) -> float:
    """Mean CPU time (ms) of `process(chunk)` over the 80 ms chunks of `audio`."""
    parts = list(chunks(audio))
    start = time.process_time()
    for chunk in parts:
        process(chunk)
    return 1000 * (time.process_time() - start) / len(parts)


async def end_to_end(transcriber: Transcriber, synthesizer: Synthesizer) -> list[float]:
    fake = FakeHA(answer=lambda command: conversation_result(REPLY, "bench"))
    runner = await serve(fake)
    satellite = build(
        config(fake.url), WavSink(), transcriber=transcriber, synthesizer=synthesizer
    )
    connection = satellite.connection
    task = asyncio.create_task(connection.run())
    await connection.connected.wait()
    results = []
    for text in COMMANDS:
        audio = np.concatenate(
            [speech.silence(0.5), speech.piper(f"Hey Jarvis, {text}")]
        )
        turn = await satellite.process_audio(audio)
        assert turn is not None and turn.wake_word == "jarvis", turn
        results.append(turn.timings_ms["end_of_speech_to_first_audio"] / 1000)
        print(f"  {text!r}: heard {turn.text!r}, timings_ms {turn.timings_ms}")
    await connection.close()
    task.cancel()
    await runner.cleanup()
    return results


def main() -> None:
    os.environ.setdefault("ATHENA_HA_TOKEN", TOKEN)
    cfg = config("ws://127.0.0.1:9/api/websocket")
    mixed = np.concatenate(
        [speech.piper(s) for s in COMMANDS] + [speech.noise("pinknoise", 5, 0.1)]
    )
    seconds = len(mixed) / RATE
    print(
        f"audio: {seconds:.1f} s of speech and noise, "
        f"{len(mixed) // CHUNK_SAMPLES} chunks"
    )

    words = WakeWords(cfg.wake_words)
    names = [w.name for w in cfg.wake_words]
    wake_ms = cpu_ms_per_chunk(words.process, mixed)
    print(f"wake_word_cpu_ms_per_chunk={wake_ms:.2f} ({len(names)} models: {names})")
    for engine in ("webrtc", "silero"):
        # Never finished, so every chunk is judged.
        never = {
            "engine": engine,
            "max_s": 1e9,
            "start_timeout_s": 1e9,
            "silence_s": 1e9,
        }
        endpointer = Endpointer(config("ws://x/api/websocket", **never).vad)
        vad_ms = cpu_ms_per_chunk(endpointer.process, mixed)
        print(f"vad_{engine}_cpu_ms_per_chunk={vad_ms:.3f}")

    transcriber = Transcriber(Path(DEFAULT_MODEL_DIR).expanduser(), "cpu")
    command = speech.piper(COMMANDS[0])
    transcriber.transcribe(command)  # first call warms up
    start = time.perf_counter()
    for _ in range(3):
        transcriber.transcribe(command)
    stt_s = (time.perf_counter() - start) / 3
    print(
        f"stt_rtf={stt_s / (len(command) / RATE):.2f} "
        f"({stt_s:.2f} s for {len(command) / RATE:.2f} s)"
    )

    synthesizer = Synthesizer()
    list(synthesizer.sentences("Warm up."))
    start = time.perf_counter()
    first = None
    total = 0
    for audio in synthesizer.sentences(REPLY):
        first = first or time.perf_counter() - start
        total += len(audio)
    tts_s = time.perf_counter() - start
    print(
        f"tts_rtf={tts_s / (total / synthesizer.rate):.3f} "
        f"tts_first_audio_s={first:.3f}"
    )

    results = asyncio.run(end_to_end(transcriber, synthesizer))
    print(f"end_of_speech_to_first_audio_s={statistics.median(results):.2f}")


if __name__ == "__main__":
    main()

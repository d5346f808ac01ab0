"""Satellite speed on this CPU, stage by stage, with the real engines.

Per 80 ms chunk: CPU time of the wake-word stage (one feature pass, every configured
word: hey_jarvis and athena) and of the VAD (webrtc, silero). STT and TTS real-time
factors (processing time / audio time), TTS time to first audio. Then the whole
satellite with the default endpointing, fed at the microphone's pace, with a loopback
HA that answers at once: end of speech → first reply audio (median of 5 commands
without a pause), and 15 commands with a pause of 0.3, 0.5 or 0.6 s mid-sentence
("Hey Jarvis, turn on the … kitchen lights."), whole when every word of both halves
is in the transcript (and, for comparison, the same commands with the former 0.15 s
endpoint); the share of speculative transcriptions thrown away (speech resumed after
the pause that started them); which transcripts of the commands and of the paused
commands' first halves the completeness rule (vad.end_when_complete) calls complete.
The piper voice speaks without its sampling noise, so every run hears the same clips.
Run with the satellite's venv, on a quiet machine (the load average is printed):

    jetson/.venv/bin/python -m bench.satellite

Then the Wyoming path, the same commands through a real HA (bench/wyoming_path.py, run
with HA's venv: ATHENA_HA_PYTHON, default .venv/bin/python): the satellite in Wyoming
mode, HA's pipeline with its Wyoming STT and TTS, end of speech → first reply audio
and where the time goes (the command's end sent, HA's transcript, its reply audio), with
wyoming-faster-whisper and with our speculative STT (the last line has the better).

Last line: end_of_speech_to_first_audio_s=<s> paused_commands_whole=<share>
wyoming_end_of_speech_to_first_audio_s=<s> (targets: <= 1.2 s, >= 0.95 and <= 1.5 s;
wake word <= 5 ms per chunk).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
import statistics
import subprocess
import sys
import time

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "jetson"))

from athena_satellite.audio import CHUNK_SAMPLES, RATE, WavSink, chunks  # noqa: E402
from athena_satellite.config import Config, parse  # noqa: E402
from athena_satellite.recorder import (  # noqa: E402
    CommandRecorder,
    is_complete_request,
)
from athena_satellite.satellite import TurnLog, build  # noqa: E402
from athena_satellite.stt import DEFAULT_MODEL_DIR, Transcriber  # noqa: E402
from athena_satellite.tts import Synthesizer  # noqa: E402
from athena_satellite.vad import Endpointer  # noqa: E402
from athena_satellite.wakeword import WakeWords  # noqa: E402
import numpy as np  # noqa: E402
from training import speech  # noqa: E402

from bench.commands import COMMANDS  # noqa: E402
from tests.conftest import words  # noqa: E402
from tests.fake_ha import TOKEN, FakeHA, conversation_result, serve  # noqa: E402

# Two halves, a pause between them: halves that Whisper base hears right when spoken
# whole, so a missing word is the endpoint's fault.
PAUSED = (
    ("Turn on the", "kitchen lights."),
    ("What's the weather like", "tomorrow?"),
    ("Who won the game", "last night?"),
    ("Open the blinds in the", "office."),
    ("Turn off the lights in the", "bedroom."),
)
PAUSES_S = (0.3, 0.5, 0.6)
REPLY = "The kitchen lights are on. The hallway lights are still off."


def piper(text: str) -> np.ndarray:
    """`text` in the piper voice without its sampling noise: the same clip every run."""
    return speech.piper(text, noise_scale=0.0, noise_w=0.0)


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


async def end_to_end(
    transcriber: Transcriber, synthesizer: Synthesizer
) -> tuple[list[float], list[bool], list[TurnLog]]:
    """Commands without and with a pause, through the satellite in real time.

    Returns the latencies (s) of the commands without a pause, whether each paused
    command was heard whole, and every turn.
    """
    fake = FakeHA(answer=lambda command: conversation_result(REPLY, "bench"))
    runner = await serve(fake)
    satellite = build(
        config(fake.url), WavSink(), transcriber=transcriber, synthesizer=synthesizer
    )
    connection = satellite.connection
    task = asyncio.create_task(connection.run())
    await connection.connected.wait()

    async def turn_of(*parts: np.ndarray) -> TurnLog:
        audio = np.concatenate([speech.silence(0.5), *parts])
        turn = await satellite.process_audio(audio, realtime=True)
        assert turn is not None and turn.wake_word == "jarvis", turn
        return turn

    latencies, whole, turns = [], [], []
    for text in COMMANDS:
        turn = await turn_of(piper(f"Hey Jarvis, {text}"))
        turns.append(turn)
        latencies.append(turn.timings_ms["end_of_speech_to_first_audio"] / 1000)
        print(f"  {text!r}: heard {turn.text!r}, timings_ms {turn.timings_ms}")
    for first, second in PAUSED:
        for pause_s in PAUSES_S:
            turn = await turn_of(
                piper(f"Hey Jarvis, {first}"), speech.silence(pause_s), piper(second)
            )
            turns.append(turn)
            whole.append(set(words(f"{first} {second}")) <= set(words(turn.text)))
            print(
                f"  {first!r} {pause_s} s {second!r}: heard {turn.text!r} "
                f"({'whole' if whole[-1] else 'CUT'}), endpoint {turn.endpoint}, "
                f"stt wait {turn.timings_ms['stt']:.0f} ms, end of speech to first "
                f"audio {turn.timings_ms['end_of_speech_to_first_audio']:.0f} ms"
            )
    await connection.close()
    task.cancel()
    await runner.cleanup()
    return latencies, whole, turns


async def heard(recorder: CommandRecorder, *parts: np.ndarray) -> str:
    """The transcript of 0.5 s of silence, `parts` and 2 s of silence, fed at once."""
    audio = np.concatenate([speech.silence(0.5), *parts, speech.silence(2)])
    recorder.reset()
    for chunk in chunks(audio):
        if recorder.process(chunk).finished:
            break
    return await recorder.transcript()


async def paused_whole(transcriber: Transcriber, **vad: object) -> float:
    """Share of the paused commands (no wake word) heard whole with these settings."""
    cfg = config("ws://127.0.0.1:9/api/websocket", **vad)
    recorder = CommandRecorder(Endpointer(cfg.vad), transcriber.transcribe, "en")
    whole = []
    for first, second in PAUSED:
        for pause_s in PAUSES_S:
            text = await heard(
                recorder, piper(first), speech.silence(pause_s), piper(second)
            )
            whole.append(set(words(f"{first} {second}")) <= set(words(text)))
    return sum(whole) / len(whole)


async def completeness(transcriber: Transcriber) -> None:
    """Print which transcripts the completeness rule calls complete."""
    cfg = config("ws://127.0.0.1:9/api/websocket")
    recorder = CommandRecorder(Endpointer(cfg.vad), transcriber.transcribe, "en")
    for kind, texts in (
        ("commands", COMMANDS),
        ("first halves", [first for first, _second in PAUSED]),
    ):
        said = [await heard(recorder, piper(text)) for text in texts]
        complete = [text for text in said if is_complete_request(text)]
        print(
            f"completeness rule: {len(complete)}/{len(said)} {kind} called complete "
            f"{complete}"
        )


def wyoming_path() -> dict[str, list[dict[str, object]]]:
    """Run bench/wyoming_path.py in HA's venv; return the satellite's turns per STT.

    Raises RuntimeError when it fails (its output went to stderr).
    """
    ha_python = os.environ.get("ATHENA_HA_PYTHON", str(ROOT / ".venv/bin/python"))
    result = subprocess.run(
        [ha_python, "-m", "bench.wyoming_path"],
        cwd=ROOT,
        env={**os.environ, "ATHENA_JETSON_PYTHON": sys.executable},
        stdout=subprocess.PIPE,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"bench.wyoming_path failed ({result.returncode})")
    return dict(json.loads(result.stdout.splitlines()[-1]))


def main() -> None:
    os.environ.setdefault("ATHENA_HA_TOKEN", TOKEN)
    print(f"load_average={' '.join(f'{x:.2f}' for x in os.getloadavg())}")
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
    command = piper(COMMANDS[0])
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

    print(f"load_average={' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    latencies, whole, turns = asyncio.run(end_to_end(transcriber, synthesizer))
    print(f"load_average={' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    asyncio.run(completeness(transcriber))
    former = asyncio.run(paused_whole(transcriber, silence_s=0.15))
    print(f"paused commands whole with the former 0.15 s endpoint: {former:.2f}")
    paused = [
        t.timings_ms["end_of_speech_to_first_audio"] / 1000
        for t in turns[len(COMMANDS) :]
    ]
    print(
        "paused commands: end of speech to first audio "
        f"{statistics.median(paused):.2f} s median (the discarded transcription of "
        "the pause may still hold the STT thread)"
    )
    speculative = sum(t.speculative_stt for t in turns)
    discarded = sum(t.discarded_stt for t in turns)
    print(
        f"speculative_stt={speculative} discarded={discarded} "
        f"discard_rate={discarded / max(1, speculative):.2f} "
        f"(pause-free commands: {sum(t.discarded_stt for t in turns[: len(COMMANDS)])} "
        f"discarded); early ends: {sum(t.endpoint == 'complete' for t in turns)}"
    )
    print(f"load_average={' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    medians = {}
    for server, wyoming in wyoming_path().items():
        for turn in wyoming:
            heard, timings = turn["transcript"], turn["timings_ms"]
            print(f"  wyoming, {server} STT: heard {heard!r}, timings_ms {timings}")
        medians[server] = statistics.median(
            t["timings_ms"]["end_of_speech_to_first_audio"] / 1000  # type: ignore[index]
            for t in wyoming
        )
        print(f"wyoming_{server}_end_of_speech_to_first_audio_s={medians[server]:.2f}")
    wyoming_s = min(medians.values())
    print(f"load_average={' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"end_of_speech_to_first_audio_s={statistics.median(latencies):.2f} "
        f"paused_commands_whole={sum(whole) / len(whole):.2f} "
        f"wyoming_end_of_speech_to_first_audio_s={wyoming_s:.2f}"
    )


if __name__ == "__main__":
    main()

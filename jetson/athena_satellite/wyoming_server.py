"""Wyoming mode: the satellite as a Home Assistant Assist satellite.

HA's core `wyoming` integration (found by zeroconf `_wyoming._tcp`, or added by
host/port) connects to this server and keeps the connection: RunSatellite, Describe →
Info, Ping → Pong. The wake words stay on the device, both stages (verify.Detector:
stage 2 loads Whisper's encoder here too); after a verified one the satellite sends
Detection and RunPipeline (from ASR to TTS), then the microphone as AudioStart /
AudioChunk / AudioStop, ended by its own VAD (vad.py) or by HA's (a Transcript while
streaming). HA answers with Transcript, Synthesize and the reply as AudioStart /
AudioChunk / AudioStop (an announcement is the same audio with no pipeline); the
satellite plays it and sends Played. Timer events are kept; a finished timer is
chimed and spoken. An Error (a failing STT, agent or TTS) is chimed and spoken. The
microphone is ignored from the end of the command until the reply has played.

idle → listening (streaming) → processing (waiting for HA) → responding (playing) →
idle; announcements and alerts: idle → responding → idle.

Protocol: the `wyoming` package (https://github.com/OHF-Voice/wyoming, the version HA
pins) and HA's homeassistant/components/wyoming/assist_satellite.py, which is the
client this server is written against.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
import enum
import json
import logging
import queue
import threading
import time
from urllib.parse import urlparse

import numpy as np
from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import (
    Attribution,
    Describe,
    Info,
    Satellite as SatelliteInfo,
    WakeModel,
    WakeProgram,
)
from wyoming.ping import Ping, Pong
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import PauseSatellite, RunSatellite
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming.snd import Played
from wyoming.timer import TimerCancelled, TimerFinished, TimerStarted, TimerUpdated
from wyoming.tts import Synthesize
from wyoming.wake import Detection

from .audio import RATE, AlsaSink, Sink, chime
from .config import Config
from .satellite import SORRY_UNREACHABLE, Satellite, _drain
from .stt import Transcriber
from .tts import Synthesizer, speakable
from .vad import Endpointer, State
from .verify import Detector, Verifier
from .wakeword import WakeWords

_LOGGER = logging.getLogger(__name__)
TURN_LOGGER = logging.getLogger("athena_satellite.turn")
ATTRIBUTION = Attribution(name="Athena", url="https://github.com/athena-assistant")
SORRY_ERROR = "Sorry, something went wrong: {}"
TIMER_DONE = "Your timer is done."
NAMED_TIMER_DONE = "Your {} timer is done."
# Audio gathered before the first play call: one `aplay` per 46 ms chunk HA sends would
# stutter; HA sends faster than real time, so later calls find more waiting.
MIN_PLAY_S = 0.3


class Mode(enum.Enum):
    """The satellite's state, named as HA's assist_satellite entity names its own."""

    IDLE = "idle"  # chunks go to the wake words
    LISTENING = "listening"  # chunks stream to HA's pipeline
    PROCESSING = "processing"  # the command is over; waiting for HA's reply
    RESPONDING = "responding"  # playing a reply, an announcement or an alert


class NotConnectedError(Exception):
    """No Home Assistant is connected (or it stopped the satellite)."""


@dataclass
class WyomingTurn:
    """One command through HA's pipeline; times are time.monotonic() seconds."""

    wake_word: str
    transcript: str = ""
    reply: str = ""
    error: str = ""
    end_of_speech: float | None = None
    first_audio: float | None = None
    # When the command's AudioStop went out ("command_sent"), HA's Transcript came
    # ("transcript") and its reply audio began ("reply_audio").
    marks: dict[str, float] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> str:
        """One log line (the structured per-turn record)."""
        times = ("end_of_speech", "first_audio", "marks")
        data = {k: v for k, v in self.__dict__.items() if k not in times}
        return json.dumps({"event": "wyoming_turn", **data}, ensure_ascii=False)


class Playback:
    """Audio played on a sink as it arrives, from a worker thread (the sink blocks).

    `put` int16 mono audio at `rate` Hz; `finish()` waits until all of it played and
    returns the monotonic time the first part reached the sink (None if none did).
    A failing sink is logged once; the rest of the audio is dropped.
    """

    def __init__(self, sink: Sink, rate: int) -> None:
        self.sink = sink
        self.rate = rate
        self.first_audio: float | None = None
        self._cancelled = False
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue()
        self._thread = threading.Thread(target=self._play, daemon=True)
        self._thread.start()

    def put(self, audio: np.ndarray) -> None:
        """Queue `audio` (shape (n,), int16) to play after what is queued."""
        self._queue.put(audio)

    def cancel(self) -> None:
        """Drop what has not played yet; the thread ends after the current part."""
        self._cancelled = True
        self._queue.put(None)

    async def finish(self) -> float | None:
        """Wait until everything queued has played; return the first audio's time."""
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)
        return self.first_audio

    def _play(self) -> None:
        parts: list[np.ndarray] = []
        ended = False
        failed = False
        while not ended:
            item = self._queue.get()
            if item is None:
                ended = True
            else:
                parts.append(item)
            while not self._queue.empty() or (
                not ended and sum(map(len, parts)) < MIN_PLAY_S * self.rate
            ):
                item = self._queue.get()
                if item is None:
                    ended = True
                    break
                parts.append(item)
            if not parts or failed or self._cancelled:
                parts = []
                continue
            if self.first_audio is None:
                self.first_audio = time.monotonic()
            try:
                self.sink.play(np.concatenate(parts), self.rate)
            except OSError as err:
                _LOGGER.error("cannot play audio: %s", err)
                failed = True
            parts = []


class WyomingSatellite:
    """Wake words on the device, HA's Assist pipeline for the rest (module docstring).

    `handle_chunk` takes the microphone's 80 ms chunks; `SatelliteEventHandler` (one
    per HA connection, the latest wins) passes HA's events to `handle_event`. The
    synthesizer speaks the local alerts (finished timers, errors, HA unreachable).
    """

    def __init__(
        self,
        config: Config,
        sink: Sink,
        wake_words: WakeWords,
        endpointer: Endpointer,
        synthesizer: Synthesizer,
        *,
        verifier: Verifier | None = None,
        reply_timeout_s: float = 30.0,
    ) -> None:
        self.config = config
        self.sink = sink
        self.detector = Detector(wake_words, verifier)
        self.endpointer = endpointer
        self.synthesizer = synthesizer
        self.reply_timeout_s = reply_timeout_s
        self.mode = Mode.IDLE
        self.modes: list[Mode] = [Mode.IDLE]  # every state taken, for tests and logs
        self.handler: SatelliteEventHandler | None = None
        self.running = False  # HA sent RunSatellite (and no PauseSatellite since)
        self.timers: dict[str, TimerStarted] = {}
        self.turn: WyomingTurn | None = None
        self.turns: list[WyomingTurn] = []
        self.idle = asyncio.Event()
        self.idle.set()
        self._playback: Playback | None = None
        self._converter = AudioChunkConverter(width=2, channels=1)
        self._timestamp = 0  # ms of microphone audio sent in this command
        self._watchdog: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def info(self) -> Info:
        """Return what HA's Describe gets: the satellite, its wake words, no service."""
        words = [w.name for w in self.config.wake_words]
        return Info(
            satellite=SatelliteInfo(
                name=self.config.name,
                attribution=ATTRIBUTION,
                installed=True,
                description="Athena satellite (wake words on the device)",
                version=None,
                area=self.config.wyoming.area,
                has_vad=True,
                active_wake_words=words,
                max_active_wake_words=len(words),
                supports_trigger=False,
            ),
            wake=[
                WakeProgram(
                    name="openwakeword",
                    attribution=ATTRIBUTION,
                    installed=True,
                    description="openWakeWord on the satellite",
                    version=None,
                    models=[
                        WakeModel(
                            name=w.name,
                            attribution=ATTRIBUTION,
                            installed=True,
                            description=w.model,
                            version=None,
                            languages=[self.config.language],
                            phrase=w.name.replace("_", " "),
                        )
                        for w in self.config.wake_words
                    ],
                )
            ],
        )

    def ready(self) -> bool:
        """Tell whether a wake word now would start a pipeline (HA connected, idle)."""
        return self.running and self.handler is not None and self.mode is Mode.IDLE

    def _set_mode(self, mode: Mode) -> None:
        if mode is self.mode:
            return
        _LOGGER.debug("%s → %s", self.mode.value, mode.value)
        self.mode = mode
        self.modes.append(mode)
        if mode is Mode.IDLE:
            self.idle.set()
            self.detector.reset()
        else:
            self.idle.clear()

    # Microphone --------------------------------------------------------------------

    async def handle_chunk(self, chunk: np.ndarray) -> None:
        """Process one 80 ms microphone chunk (shape (1280,), int16, 16 kHz).

        Idle: the wake words; a wake starts a pipeline run in HA. Listening: the chunk
        goes to HA and to the local VAD, which ends the command. Otherwise ignored
        (the microphone is muted while HA works and while the satellite speaks).
        """
        if self.mode is Mode.IDLE:
            wake = self.detector.process(chunk)
            if wake is None:
                return
            await self._wake(wake.word.name)
            for held in wake.held:  # the command's start, heard while verifying
                if self.mode is Mode.LISTENING:
                    await self.handle_chunk(held)
            return
        if self.mode is not Mode.LISTENING:
            return
        try:
            await self._send(
                AudioChunk(
                    rate=RATE,
                    width=2,
                    channels=1,
                    audio=chunk.astype(np.int16).tobytes(),
                    timestamp=self._timestamp,
                ).event()
            )
        except NotConnectedError as err:
            self._lost(str(err))
            return
        self._timestamp += 1000 * len(chunk) // RATE
        result = self.endpointer.process(chunk)
        if result.finished:
            turn = self.turn
            assert turn is not None
            if result.state is not State.NO_SPEECH and result.speech_end is not None:
                ago = (self.endpointer.position - result.speech_end) / RATE
                turn.end_of_speech = time.monotonic() - ago
            _LOGGER.info("command over (%s)", result.state.value)
            await self._end_stream()

    async def _wake(self, name: str) -> None:
        if self.handler is None or not self.running:
            _LOGGER.warning("wake word %s but no Home Assistant is connected", name)
            self._spawn(self.alert(SORRY_UNREACHABLE))
            return
        self.turn = WyomingTurn(name)
        self._timestamp = 0
        self.endpointer.reset(after_wake=True)
        self._set_mode(Mode.LISTENING)
        try:
            await self._send(Detection(name=name).event())
            await self._send(
                RunPipeline(
                    start_stage=PipelineStage.ASR,
                    end_stage=PipelineStage.TTS,
                    wake_word_name=name,
                ).event()
            )
            await self._send(AudioStart(rate=RATE, width=2, channels=1).event())
        except NotConnectedError as err:
            self._lost(str(err))
            return
        if self.config.chime:
            self._spawn(self._play_blocking(chime(self.synthesizer.rate)))

    async def _end_stream(self) -> None:
        """End the command: AudioStop to HA, then wait for its reply (with a limit)."""
        self._set_mode(Mode.PROCESSING)
        if self.turn is not None:
            self.turn.marks["command_sent"] = time.monotonic()
        self._watchdog = asyncio.create_task(self._reply_watchdog())
        try:
            await self._send(AudioStop(timestamp=self._timestamp).event())
        except NotConnectedError as err:
            self._lost(str(err))

    async def _reply_watchdog(self) -> None:
        await asyncio.sleep(self.reply_timeout_s)
        if self.mode is Mode.PROCESSING:
            _LOGGER.warning("no reply from HA in %.0f s", self.reply_timeout_s)
            self._finish_turn("no reply")
            self._set_mode(Mode.IDLE)

    # Home Assistant's events ----------------------------------------------------------

    async def handle_event(self, handler: SatelliteEventHandler, event: Event) -> None:
        """Act on one event from HA's connection `handler` (module docstring).

        Never raises for an odd event: unknown ones are logged and ignored; audio in
        a format that cannot be converted ends that audio with an error log.
        """
        if Describe.is_type(event.type):
            await handler.write_event(self.info().event())
        elif Ping.is_type(event.type):
            await handler.write_event(Pong(text=Ping.from_event(event).text).event())
        elif RunSatellite.is_type(event.type):
            self.connect(handler)
        elif PauseSatellite.is_type(event.type):
            if handler is self.handler:
                self.running = False
                self._abort("paused by Home Assistant")
        elif handler is not self.handler:
            _LOGGER.debug("event from a replaced connection: %s", event.type)
        elif AudioStart.is_type(event.type):
            self._audio_start(AudioStart.from_event(event))
        elif AudioChunk.is_type(event.type):
            self._audio_chunk(AudioChunk.from_event(event))
        elif AudioStop.is_type(event.type):
            self._audio_stop()
        else:
            await self._pipeline_event(event)

    async def _pipeline_event(self, event: Event) -> None:
        turn = self.turn
        if Transcript.is_type(event.type):
            text = Transcript.from_event(event).text
            _LOGGER.info("HA heard %r", text)
            if turn is not None:
                turn.transcript = text
                turn.marks["transcript"] = time.monotonic()
            if self.mode is Mode.LISTENING:  # HA's VAD ended the command first
                await self._end_stream()
        elif Synthesize.is_type(event.type):
            if turn is not None:
                turn.reply = Synthesize.from_event(event).text
        elif Error.is_type(event.type):
            self._pipeline_error(Error.from_event(event))
        elif TimerStarted.is_type(event.type):
            timer = TimerStarted.from_event(event)
            self.timers[timer.id] = timer
        elif TimerUpdated.is_type(event.type):
            _LOGGER.debug("timer updated: %s", TimerUpdated.from_event(event))
        elif TimerCancelled.is_type(event.type):
            self.timers.pop(TimerCancelled.from_event(event).id, None)
        elif TimerFinished.is_type(event.type):
            started = self.timers.pop(TimerFinished.from_event(event).id, None)
            name = started.name if started is not None else None
            message = NAMED_TIMER_DONE.format(name) if name else TIMER_DONE
            self._spawn(self.alert(message, chime_first=True))
        else:
            _LOGGER.debug("event not used: %s", event.type)

    def _pipeline_error(self, error: Error) -> None:
        _LOGGER.warning("HA's pipeline failed: %s (%s)", error.text, error.code)
        if self.turn is not None:
            self.turn.error = error.code or error.text
        if self.mode in (Mode.LISTENING, Mode.PROCESSING):
            self._finish_turn(error.code or "error")
            self._set_mode(Mode.IDLE)
            self._spawn(self.alert(SORRY_ERROR.format(speakable(error.text, 200))))

    def _audio_start(self, start: AudioStart) -> None:
        if self._playback is not None:
            _LOGGER.warning("new audio before the last one ended; dropping the last")
            self._playback.cancel()
        if self.mode is Mode.LISTENING:  # a reply while streaming: the command is over
            self._set_mode(Mode.PROCESSING)
        self._cancel_watchdog()
        self._set_mode(Mode.RESPONDING)
        if self.turn is not None:
            self.turn.marks.setdefault("reply_audio", time.monotonic())
        self._playback = Playback(self.sink, start.rate)

    def _audio_chunk(self, chunk: AudioChunk) -> None:
        playback = self._playback
        if playback is None:
            _LOGGER.debug("audio chunk outside AudioStart/AudioStop: dropped")
            return
        try:
            converted = self._converter.convert(chunk)
        except Exception as err:  # pyaudioop raises its own error for bad formats
            _LOGGER.error("cannot play audio of width %s: %s", chunk.width, err)
            self._playback = None
            self._spawn(self._played(playback))
            return
        if converted.rate != playback.rate:
            _LOGGER.error("audio changed rate mid-stream (%s Hz): dropped", chunk.rate)
            return
        playback.put(np.frombuffer(converted.audio, dtype=np.int16))

    def _audio_stop(self) -> None:
        playback, self._playback = self._playback, None
        if playback is None:
            _LOGGER.debug("AudioStop without audio")
            return
        self._spawn(self._played(playback))

    async def _played(self, playback: Playback) -> None:
        """Wait for `playback`, tell HA it played, go idle (unless already busy)."""
        first = await playback.finish()
        turn = self.turn
        if turn is not None and turn.first_audio is None and first is not None:
            turn.first_audio = first
        self._finish_turn("")
        if self.handler is not None:
            try:
                await self._send(Played().event())
            except NotConnectedError as err:
                _LOGGER.warning("cannot tell HA the audio played: %s", err)
        if self._playback is None and self.mode is Mode.RESPONDING:
            self._set_mode(Mode.IDLE)

    def _finish_turn(self, error: str) -> None:
        turn, self.turn = self.turn, None
        if turn is None:
            return
        turn.error = turn.error or error
        if turn.end_of_speech is not None:
            if turn.first_audio is not None:
                turn.marks["first_audio"] = turn.first_audio
            for name, when in turn.marks.items():
                turn.timings_ms[f"end_of_speech_to_{name}"] = round(
                    1000 * (when - turn.end_of_speech), 1
                )
        self.turns.append(turn)
        TURN_LOGGER.info(turn.as_json())

    # Local speech -----------------------------------------------------------------

    async def alert(self, message: str, *, chime_first: bool = False) -> None:
        """When idle, speak `message` with the local voice (after a chime if asked).

        Used for what HA cannot say: a finished timer, a failed pipeline, no HA.
        A failing speaker is logged, not raised.
        """
        await self.idle.wait()
        self._set_mode(Mode.RESPONDING)
        try:
            if chime_first:
                await self._play_blocking(chime(self.synthesizer.rate))
            for audio in await asyncio.to_thread(
                lambda: list(self.synthesizer.sentences(message))
            ):
                await self._play_blocking(audio)
        finally:
            if self._playback is None and self.mode is Mode.RESPONDING:
                self._set_mode(Mode.IDLE)

    async def _play_blocking(self, audio: np.ndarray) -> None:
        try:
            await asyncio.to_thread(self.sink.play, audio, self.synthesizer.rate)
        except OSError as err:
            _LOGGER.error("cannot play audio: %s", err)

    # Connection -------------------------------------------------------------------

    def connect(self, handler: SatelliteEventHandler) -> None:
        """Make `handler` HA's connection (RunSatellite); a previous one is dropped."""
        previous, self.handler = self.handler, handler
        self.running = True
        if previous is not None and previous is not handler:
            _LOGGER.info("Home Assistant connected again; dropping the old connection")
            self._abort("replaced by a new connection")
            self._spawn(previous.stop())
        _LOGGER.info("Home Assistant connected")

    def disconnected(self, handler: SatelliteEventHandler) -> None:
        """`handler`'s connection closed; mid-turn, the turn is given up."""
        if handler is not self.handler:
            return
        self.handler = None
        self.running = False
        _LOGGER.warning("Home Assistant disconnected")
        self._abort("Home Assistant disconnected")

    def _abort(self, reason: str) -> None:
        """Give up the current turn (if any) and its audio; back to idle."""
        if self.mode is Mode.IDLE:
            return
        _LOGGER.warning("turn given up: %s", reason)
        self._cancel_watchdog()
        self._finish_turn(reason)
        playback, self._playback = self._playback, None
        if playback is not None:
            playback.cancel()
        self._set_mode(Mode.IDLE)

    def _lost(self, reason: str) -> None:
        _LOGGER.warning("cannot reach Home Assistant: %s", reason)
        self._abort(reason)

    def _cancel_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    async def _send(self, event: Event) -> None:
        """Write `event` to HA; raise NotConnectedError if there is no connection."""
        handler = self.handler
        if handler is None or not self.running:
            raise NotConnectedError("no Home Assistant connected")
        try:
            await handler.write_event(event)
        except (ConnectionError, OSError) as err:
            raise NotConnectedError(str(err) or type(err).__name__) from err

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # Serving ------------------------------------------------------------------------

    async def serve(self, uri: str) -> AsyncServer:
        """Start the Wyoming server on `uri` (tcp://HOST:PORT); return it, running.

        Raises OSError when the address cannot be bound.
        """
        server = AsyncServer.from_uri(uri)
        await server.start(lambda r, w: SatelliteEventHandler(self, r, w))
        return server

    async def run(self, source: Callable[[], Iterator[np.ndarray]]) -> None:
        """Serve HA forever: read chunks from `source()` (a microphone) and handle them.

        A failing microphone is logged and reopened with backoff (as direct mode).
        """
        mic: asyncio.Queue[np.ndarray] = asyncio.Queue(maxsize=200)
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        threading.Thread(
            target=Satellite._read_mic,
            args=(source, mic, loop, stop),
            daemon=True,
        ).start()
        try:
            while True:
                chunk = await mic.get()
                busy = self.mode is not Mode.IDLE
                await self.handle_chunk(chunk)
                if busy and self.mode is Mode.IDLE:
                    _drain(mic)  # what the satellite heard while it spoke
        finally:
            stop.set()


class SatelliteEventHandler(AsyncEventHandler):
    """One connection from HA's wyoming integration, passing events to the satellite."""

    def __init__(
        self,
        satellite: WyomingSatellite,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        super().__init__(reader, writer)
        self.satellite = satellite

    async def handle_event(self, event: Event) -> bool:
        """Pass `event` to the satellite; a malformed event is logged, not fatal."""
        try:
            await self.satellite.handle_event(self, event)
        except (ConnectionError, OSError) as err:
            _LOGGER.warning("connection to Home Assistant failed: %s", err)
            return False
        except (KeyError, TypeError, ValueError) as err:
            _LOGGER.error("malformed %s event from Home Assistant: %s", event.type, err)
        return True

    async def disconnect(self) -> None:
        """Tell the satellite the connection closed (HA stopped or the network)."""
        self.satellite.disconnected(self)


def zeroconf_host(uri: str) -> str | None:
    """Return the address to announce for `uri`: its host, None (detect) for 0.0.0.0."""
    host = urlparse(uri).hostname
    return None if host in (None, "0.0.0.0", "") else host


def build(
    config: Config,
    sink: Sink | None = None,
    *,
    synthesizer: Synthesizer | None = None,
    transcriber: Transcriber | None = None,
    reply_timeout_s: float | None = None,
) -> WyomingSatellite:
    """Load the wake words, the VAD and the local voice; return a WyomingSatellite.

    `sink` defaults to the configured ALSA output; a `synthesizer` already loaded is
    used instead of loading another; `reply_timeout_s` defaults to the configured
    request timeout. Wake words with `verify` need Whisper's encoder here too (stage
    2; HA's STT service is another process): the configured model is loaded unless a
    `transcriber` is given. Raises FileNotFoundError for a missing wake-word, verifier
    or voice model.
    """
    verifier = None
    if any(w.verify for w in config.wake_words):
        transcriber = transcriber or Transcriber(
            config.stt_model_dir, config.stt_device, config.stt_beam_size
        )
        verifier = Verifier(transcriber.model, config.wake_words)
    return WyomingSatellite(
        config,
        sink if sink is not None else AlsaSink(config.output_device),
        WakeWords(config.wake_words),
        Endpointer(config.vad),
        synthesizer or Synthesizer(config.tts_model, config.tts_length_scale),
        verifier=verifier,
        reply_timeout_s=(
            config.request_timeout_s if reply_timeout_s is None else reply_timeout_s
        ),
    )

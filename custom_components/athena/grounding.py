"""The grounding check: a reply may only state numbers and times found in its facts.

A number is a run of digits with an optional decimal part ("7", "0.3", "1,200");
a time "7:30" counts as itself and as its hour when the minutes are ":00" (facts
say "7:00 PM", replies "7 PM"). Numbers written as words are not checked.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


def _numbers(text: str) -> set[str]:
    found = set()
    for match in _NUMBER.findall(text):
        plain = match.replace(",", "")
        found.add(plain)
        if plain.endswith(":00"):
            found.add(plain[:-3])
        elif "." in plain:
            found.add(plain.rstrip("0").rstrip("."))
    return found


def ungrounded(reply: str, facts: str) -> list[str]:
    """Return the numbers and times of `reply` that do not appear in `facts`."""
    known = _numbers(facts)
    missing = []
    for match in _NUMBER.findall(reply):
        plain = match.replace(",", "")
        if plain in known or plain.rstrip("0").rstrip(".") in known:
            continue
        if plain.endswith(":00") and plain[:-3] in known:
            continue
        missing.append(match)
    return missing

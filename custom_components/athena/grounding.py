"""The grounding check: a reply may only state numbers and times found in its facts.

A number is a run of digits with an optional decimal part ("7", "0.3", "1,200");
a time "7:30" counts as itself and as its hour when the minutes are ":00" (facts
say "7:00 PM", replies "7 PM"). Numbers written as words are not checked.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


def _forms(number: str) -> set[str]:
    """Return the ways one matched number may be written.

    "1,200" → {"1200"}; "0.30" → {"0.30", "0.3"}; "7:00" → {"7:00", "7"}.
    """
    plain = number.replace(",", "")
    forms = {plain}
    if plain.endswith(":00"):
        forms.add(plain[:-3])
    elif "." in plain:
        forms.add(plain.rstrip("0").rstrip("."))
    return forms


def ungrounded(reply: str, facts: str) -> list[str]:
    """Return the numbers and times of `reply` that do not appear in `facts`."""
    known = set().union(*(_forms(n) for n in _NUMBER.findall(facts)))
    return [n for n in _NUMBER.findall(reply) if not _forms(n) & known]

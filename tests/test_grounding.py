"""The grounding check on its own: which numbers and times count as in the facts."""

from __future__ import annotations

import pytest

from custom_components.athena.grounding import ungrounded

FACTS = (
    "Tomorrow (Wednesday, November 24): rain, high 8 °C, low -3 °C, 40% chance of "
    "precipitation, 1.20 mm. Next game: Sunday at 7:00 PM. Attendance 1,200."
)


@pytest.mark.parametrize(
    "reply",
    [
        "A high of 8 and a low of -3, 40 percent, 1.2 mm.",
        "Kick-off at 7 PM, or 7:00, on November 24.",
        "About 1200 people, 1,200 in all.",
    ],
)
def test_numbers_in_the_facts_pass(reply: str) -> None:
    assert ungrounded(reply, FACTS) == []


@pytest.mark.parametrize(
    ("reply", "missing"),
    [
        ("A high of 25.", ["25"]),
        ("Kick-off at 7:30.", ["7:30"]),
        ("A high of 80 and 12 mm.", ["80", "12"]),  # "80" is not "8", "12" not "1.20"
    ],
)
def test_numbers_not_in_the_facts_are_listed(reply: str, missing: list[str]) -> None:
    assert ungrounded(reply, FACTS) == missing


def test_trailing_zeros_of_whole_numbers_count() -> None:
    # "10" and "100" are not "1": only decimals lose their trailing zeros.
    assert ungrounded("Rain at 10, with 100 people.", "1 mm of rain") == ["10", "100"]

"""The completeness check on replies SmolLM2-135M really wrote.

Every reply in `CAPTURED` was written by SmolLM2-135M-Instruct on llama.cpp
(`bench.answer_quality --save`, the agent's own prompt) for the question and facts
beside it; the facts are the blocks the sources wrote. `WRITTEN` are replies in the
shape larger models write (numbers as words, "°F", "mph", a verdict), to show the
check is not tied to one model's wording. A reply the check passes is spoken as it
is; one it fails becomes the template sentence (`tests/test_sources.py`,
`test_whole_agent.py` show that path through the agent).
"""

from __future__ import annotations

import pytest

from custom_components.athena.completeness import check, fact_kinds, incomplete, numbers
from custom_components.athena.prompt import fact_example
from custom_components.athena.sources.weather import CONDITION_WORDS

HOME_NOW = (
    "Weather for Home, in degrees Celsius:\n"
    "Now: rainy, temperature 8 degrees.\n"
    "Now also: humidity 80 percent.\n"
    "Today (Saturday, October 3): rainy, high 8 degrees, low 6 degrees.\n"
    "Today also: 0.2 millimeters of precipitation, wind up to 11 kilometers per hour."
)
HOME_TODAY = (
    "Weather for Home, in degrees Celsius:\n"
    "Today (Saturday, October 3): rainy, high 8 degrees, low 6 degrees.\n"
    "Today also: 0.2 millimeters of precipitation, wind up to 11 kilometers per hour."
)
HOME_TONIGHT = HOME_TODAY.replace("Today", "Tonight")
HOME_TOMORROW = (
    "Weather for Home, in degrees Celsius:\n"
    "Tomorrow (Sunday, October 4): rainy, high 5 degrees, low 0 degrees.\n"
    "Tomorrow also: 0.3 millimeters of precipitation, wind up to 13 kilometers "
    "per hour."
)
PLACE_TOMORROW = (
    "Weather for Enschede, Overijssel, The Netherlands, in degrees Celsius:\n"
    "Tomorrow (Sunday, October 4): fog, high 20 degrees, low 11 degrees, 8 percent "
    "chance of precipitation.\n"
    "Tomorrow also: 0 millimeters of precipitation, wind up to 6 kilometers per hour."
)
FAHRENHEIT_TOMORROW = (
    "Weather for Home, in degrees Fahrenheit:\n"
    "Tomorrow (Sunday, October 4): rainy, high 72 degrees, low 55 degrees, 60 percent "
    "chance of precipitation.\n"
    "Tomorrow also: wind up to 12 miles per hour."
)
RAVENS_LIVE = (
    "Baltimore Ravens (NFL):\n"
    "Live: Baltimore Ravens 24, New York Jets 3 (1:21 - 4th Quarter)."
)
RAVENS_FINAL = (
    "Baltimore Ravens (NFL):\n"
    "Final, Sunday, September 11 at 1:00 PM: Baltimore Ravens 24, New York Jets 9."
)
CHIEFS_NEXT = (
    "Kansas City Chiefs (NFL):\n"
    "Next game: Sunday, September 11 at 1:25 PM, away at Arizona Cardinals."
)
METS_NEXT = (
    "New York Mets (MLB):\n"
    "Next game: Saturday, September 17 at 4:10 PM, at home against Pittsburgh Pirates."
)
METAR = (
    "Weather at KSFO now: marginal VFR, wind WSW at 7 knots, visibility 10 miles, "
    "ceiling 1400 feet, temperature 14 °C."
)
SFO_DELAYS = (
    "San Francisco International Airport (SFO):\n"
    "Ground delay program: average 36 minutes, up to 1 hour and 35 minutes, because "
    "of low ceilings.\n"
    "Departure delays of 31 minutes to 45 minutes, increasing (reason: "
    f"RWY:Construction).\n{METAR}"
)
JFK_NORMAL = (
    "John F Kennedy International Airport (JFK):\n"
    f"No delays or ground stops reported by the FAA.\n{METAR}"
)
LHR_NORMAL = JFK_NORMAL.replace(
    "John F Kennedy International Airport (JFK)", "London Heathrow Airport (LHR)"
)
LAX_CLOSED = (
    "Los Angeles International Airport (LAX):\n"
    "A closure notice (NOTAM) applies from May 27 at 18:26 UTC until May 28 at "
    f"16:00 UTC.\n{METAR}"
)

# (category, question, facts, SmolLM2's reply, the checks it must fail: () = none)
CAPTURED = [
    ("weather", "do I need a jacket tonight", HOME_TONIGHT,
     "Tonight: rainy, high 8 degrees and low 6 degrees.", ()),
    ("weather", "what time is it and what's the weather", HOME_NOW,
     "Now: rainy, temperature 8 degrees.", ()),
    ("weather", "what's the weather like", HOME_NOW,
     "Now: sunny, temperature 31 degrees.",
     ("ungrounded:31", "weather_temperature", "weather_condition")),
    ("weather", "will it rain tomorrow", HOME_TOMORROW,
     "Tomorrow: rainy, high 5 degrees and low 13 kilometers per hour.",
     ("weather_figure_mislabelled",)),
    ("weather", "what's the low tonight", HOME_TONIGHT,
     "Tonight: rainy, high 8 degrees and low 19 degrees.",
     ("ungrounded:19", "weather_figure_mislabelled", "weather_temperature")),
    ("weather", "do I need sunscreen today", HOME_TODAY,
     "Today: sunny, with a high of 8 degrees and a low of 6 degrees.",
     ("weather_condition",)),
    ("weather", "is it going to pour this afternoon", HOME_TODAY,
     "Tomorrow: heavy rain, high 8 °C and low 6 °C.",
     ("weather_day", "weather_condition")),
    ("weather", "is it going to snow in denver tomorrow", PLACE_TOMORROW,
     "Tomorrow: fog, high 20 degrees and low 11 degrees, with a wind up to 6 "
     "kilometers per hour.",
     ("weather_precipitation_chance",)),
    ("weather", "how windy is it", HOME_NOW,
     "Now: rainy, temperature 8 degrees.", ("weather_wind",)),
    ("weather", "what's it like outside", HOME_NOW, "You're welcome.",
     ("weather_temperature", "weather_condition_missing")),
    ("weather", "and paris?", PLACE_TOMORROW.replace("Tomorrow", "Today"),
     "Paris: Today (Saturday, October 3): fog, high 20 degrees, low 11 degrees.",
     ("not_in_facts",)),
    ("sports", "did the ravens win", RAVENS_LIVE,
     "Live: Baltimore Ravens 24, New York Jets 3 (1:21 - 4th Quarter).", ()),
    ("sports", "how did the ravens do", RAVENS_LIVE,
     "Live: Baltimore Ravens 24, New York Jets (NFL): Live: Baltimore Ravens 3 "
     "(1:21 - 4th Quarter).",
     ("sports_score",)),
    ("sports", "did the ravens win", RAVENS_LIVE,
     "Live: Baltimore Ravens 24, New York Jets (NFL): The Ravens won the game.",
     ("sports_score", "sports_result")),
    ("sports", "what channel is the chiefs game on", CHIEFS_NEXT,
     "Next game: Kansas City Chiefs (NFL):\nThe Chiefs are currently in Kansas City, "
     "playing the Kansas City Blue Devils.",
     ("sports_next_game", "sports_team")),
    ("sports", "did the mets win yesterday", METS_NEXT, "No, they won yesterday.",
     ("sports_next_game",)),
    ("airport", "are there any delays at jfk", JFK_NORMAL,
     "No delays or ground stops reported by the FAA.", ()),
    ("airport", "any ground stops at san francisco airport", SFO_DELAYS,
     "Ground stops of 31 minutes to 45 minutes, increasing (reason: "
     "RWY:Construction).",
     ("airport_status",)),
    ("airport", "is heathrow running on time", LHR_NORMAL,
     "No delays or ground stops reported by the UK Airports Authority.",
     ("airport_source",)),
    ("airport", "what's the weather at jfk airport", JFK_NORMAL,
     "No delays or ground stops reported by the FAA at John F Kennedy "
     "International Airport (JFK): no weather updates.",
     ("airport_weather",)),
    ("airport", "is lax backed up", LAX_CLOSED,
     "Weather at LAX now: marginal VFR, wind NW.", ("airport_status", "airport_wind")),
    ("airport", "any delays at jfk", JFK_NORMAL, "No delays at JFKLK now.",
     ("not_in_facts",)),
    ("airport", "are there delays at l a x", LAX_CLOSED,
     "A closure notice (NOTAM) applies from May 27 at 18:26 UTC until May 30 at "
     "16:00 UTC.",
     ("ungrounded:30",)),
    ("multi", "what's the weather and did the ravens win",
     f"{HOME_NOW}\n{RAVENS_LIVE}", "Now: rainy, temperature 8 degrees.",
     ("sports_score",)),
    ("multi", "how are the ravens doing and is it going to rain on sunday",
     f"{RAVENS_LIVE}\n{HOME_TOMORROW.replace('Tomorrow', 'Sunday')}",
     "Baltimore Ravens (NFL):\nWeather for Home, in degrees Celsius:\n"
     "Sunday (Sunday, October 4): rainy, high 5 degrees, low 0 degrees.\n"
     "Sunday also: 1.3 millimeters of precipitation, wind up to 2 kilometers per "
     "hour.",
     ("ungrounded:1.3", "sports_score")),
    ("multi", "any delays at jfk and what's the weather in new york",
     f"{JFK_NORMAL}\n{HOME_NOW}",
     "No delays or ground stops reported by the FAA.",
     ("weather_temperature", "weather_condition_missing")),
]  # fmt: skip

# Replies in the wording of larger models: numbers as words, symbols, verdicts.
WRITTEN = [
    ("weather", "will it rain tomorrow", FAHRENHEIT_TOMORROW,
     "Yes, rain is likely tomorrow: a sixty percent chance, with a high of "
     "seventy-two °F and a low of fifty-five.", ()),
    ("weather", "will it rain tomorrow", FAHRENHEIT_TOMORROW,
     "No, tomorrow looks dry with a high of 72°F.",
     ("weather_precipitation_chance", "weather_condition")),
    ("weather", "how cold will it get tomorrow", FAHRENHEIT_TOMORROW,
     "Down to 55 degrees Celsius tomorrow.", ("weather_unit",)),
    ("weather", "how windy will it be tomorrow", FAHRENHEIT_TOMORROW,
     "Winds up to 12 km/h tomorrow.", ("weather_unit",)),
    ("weather", "will it freeze tomorrow", FAHRENHEIT_TOMORROW,
     "Yes, it will be freezing, with a low of 55 degrees.", ("weather_freezing",)),
    ("sports", "did the ravens win", RAVENS_FINAL,
     "Yes! The Ravens beat the Jets twenty-four to nine.", ()),
    ("sports", "did the ravens win", RAVENS_FINAL,
     "The Ravens lost to the Jets, 24 to 9.", ("sports_result",)),
    ("sports", "when do the chiefs play", CHIEFS_NEXT,
     "The Chiefs play the Arizona Cardinals on Sunday at 1:25 PM.", ()),
    ("sports", "when do the chiefs play", CHIEFS_NEXT,
     "The Chiefs play the Cardinals on Monday.", ("sports_next_game",)),
    ("airport", "any delays at sfo", SFO_DELAYS,
     "No, flights at SFO are on time.", ("airport_status",)),
    ("airport", "any delays at sfo", SFO_DELAYS,
     "Yes: departures are delayed 31 to 45 minutes because of construction.", ()),
    ("airport", "what's the weather at sfo", SFO_DELAYS,
     "Marginal VFR with wind from the west-southwest at 7 knots.", ()),
    ("airport", "what's the weather at sfo", SFO_DELAYS,
     "It is IFR at SFO with wind from the north.",
     ("airport_flight_category", "airport_wind")),
    ("weather", "what's the weather", HOME_NOW,
     "As an AI, I cannot see outside, but it is 8 degrees.", ("refusal",)),
    ("weather", "what's the weather", HOME_NOW, "", ("empty",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("category", "question", "facts", "reply", "failing"), CAPTURED + WRITTEN
)
def test_a_reply_passes_exactly_when_it_carries_the_facts(
    category: str, question: str, facts: str, reply: str, failing: tuple[str, ...]
) -> None:
    checked = check(category, question, reply, facts)
    if failing:
        assert set(failing) <= set(checked.failed), checked.failed
        assert checked.answer == ""
    else:
        assert checked.failed == []
        assert checked.answer == reply


def test_the_sentences_that_carry_the_facts_are_spoken_and_the_rest_is_cut() -> None:
    """SmolLM2 said the facts, then went on and invented; the token cap cut it off."""
    reply = (
        "Tonight: rainy, high 8 degrees and low 6 degrees. Tomorrow will be sunny "
        "with a high of 15 degrees. Bring your"
    )
    checked = check("weather", "do I need a jacket tonight", reply, HOME_TONIGHT)
    assert checked.answer == "Tonight: rainy, high 8 degrees and low 6 degrees."


def test_an_unfinished_sentence_that_carries_the_facts_is_spoken() -> None:
    reply = "Live: Baltimore Ravens 24, New York Jets 3 (1:21 - 4th Quarter"
    assert check("sports", "did the ravens win", reply, RAVENS_LIVE).answer == reply


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("seventy-two and fifty five", [72, 55]),
        ("minus three, or 3 below zero, and -4", [-3, -3, -4]),
        ("a hundred and five", [105]),
        ("the Ravens won 24-3 at 4:10", [24, 3]),
        ("twenty one percent", [21]),
    ],
)
def test_numbers_are_read_as_digits_and_words(text: str, values: list[int]) -> None:
    assert [m.value for m in numbers(text)] == values


def test_a_reply_without_facts_to_check_passes_whatever_it_says() -> None:
    assert incomplete("general", "who wrote hamlet", "Shakespeare.", "") == []


@pytest.mark.parametrize("condition", sorted(set(CONDITION_WORDS.values())))
def test_every_condition_the_sources_write_can_be_said_back(condition: str) -> None:
    """The check knows each condition word `weather.py` writes (its twin table:
    a word missing there would raise) and never calls it a contradiction."""
    facts = (
        "Weather for Home, in degrees Celsius:\n"
        f"Now: {condition}, temperature 8 degrees."
    )
    reply = f"Now: {condition}, temperature 8 degrees."
    failed = check("weather", "what's the weather like", reply, facts).failed
    assert "weather_condition" not in failed


def test_fact_blocks_are_told_apart_by_their_titles() -> None:
    """One reading of the facts' titles serves the check and the worked example:
    a league of any code length, a scoreboard, an airport, the weather."""
    facts = (
        "Home Assistant did this: Turned off the light\n"
        "Boston Bruins (NHL):\nLive: Boston Bruins 2, Buffalo Sabres 1 (2nd).\n"
        "MLB scoreboard:\nLive: Baltimore Orioles 3, Toronto Blue Jays 6 (Top 9th).\n"
        f"{SFO_DELAYS}\n{HOME_NOW}"
    )
    assert fact_kinds(facts) == ["sports", "sports", "airport", "weather"]
    question, _answer = fact_example("multi", facts)
    assert question["content"].startswith("how did the hawks do")

"""The airport index: no name of it matches text that names no airport.

`airports.load()` indexes the real `airportsdata` table; `airports.build()` is fed a
table with crafted rows (a blank city, a one-letter one, an everyday word), as a
newer `airportsdata` may ship (20260905 had an "International" airport without a
city, whose empty name matched every text).
"""

from __future__ import annotations

import airportsdata
import pytest

from custom_components.athena.router import Category, normalize, route
from custom_components.athena.sources import airports

# Ordinary sentences naming no airport: questions about flights and airports (the
# router asks the index only for those) and everyday requests.
ORDINARY = [
    "are there any delays at the airport today",
    "is my flight on time",
    "is my flight delayed",
    "what time does my flight leave tomorrow morning",
    "how long is the security line at the terminal",
    "are departures running late this evening",
    "any ground stops right now",
    "how bad are the flight delays tonight",
    "will my flight be cancelled because of the storm",
    "is the runway closed because of snow",
    "how is traffic to the airport",
    "should I leave early for the airport",
    "are arrivals on schedule this afternoon",
    "is there a ground delay program in effect",
    "my mom is flying in tonight, is her flight late",
    "we are flying out on friday, any delays expected",
    "can you check the flight status for me",
    "how many flights were delayed yesterday",
    "is the faa reporting any problems",
    "what does the faa say about delays at the airport",
    "what is the metar right now",
    "read me the taf for the next few hours",
    "is the tsa line long at the terminal",
    "my brother david is flying home, any delays",
    "is alice's flight delayed",
    "we had a banana on the flight",
    "the marathon runners delayed traffic near the airport",
    "my mobile flight app says delayed",
    "my flight sat on the tarmac for an hour",
    "people are mad about the delays",
    "is the airport lounge open late",
    "will the flight attendants strike affect delays",
    "what is the wifi password at the terminal",
    "how much does parking at the airport cost per day",
    "any delay for the red eye flight",
    "turn on the kitchen lights",
    "who wrote hamlet",
    "what's the weather like tomorrow",
    "set a timer for ten minutes",
    "how tall is mount everest",
    "what's a good name for a cat",
    "tell me a joke",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_no_airport_found_in_ordinary_text(text: str) -> None:
    index = airports.load()
    words = normalize(text)
    assert index.find(words) is None, index.pattern.search(words)


def test_every_name_of_the_real_table_is_usable() -> None:
    index = airports.load()
    assert all(len(name) >= airports.MIN_NAME_LENGTH for name in index.names)
    assert not index.names.keys() & airports.COMMON_WORD_CITIES
    assert index.find("are flights delayed at laguardia") == "LGA"
    assert index.find("any delays at denver airport") == "DEN"


def test_blank_short_and_everyday_cities_are_not_names() -> None:
    real = airportsdata.load("IATA")
    sfo = real["SFO"]
    table = {
        "SFO": sfo,
        # airportsdata 20260905's kind of row: an "International" without a city.
        "XQA": {**sfo, "iata": "XQA", "city": "", "name": "Nowhere International"},
        "XQB": {**sfo, "iata": "XQB", "city": "  ", "name": "Blank International"},
        "XQC": {**sfo, "iata": "XQC", "city": "A", "name": "A International"},
        "XQD": {**sfo, "iata": "XQD", "city": "Mobile", "name": "Mobile International"},
        "XQE": {**sfo, "iata": "XQE", "city": "Sfax", "name": "Sfax International"},
    }
    index = airports.build(table)
    assert not {"", " ", "a", "mobile"} & index.names.keys()
    assert index.names["sfax"] == "XQE"
    assert index.find("any delays at the airport") is None
    assert index.find("is my mobile flight app right about delays") is None
    assert index.find("any delays at san francisco airport") == "SFO"
    assert index.find("any delays at sfax") == "XQE"


def test_airport_question_goes_to_the_airport_named() -> None:
    decision = route("are there delays at jfk airport")
    assert decision.category is Category.AIRPORT
    assert decision.slots == {"airport": "JFK"}

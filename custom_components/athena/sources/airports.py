"""Airport names → IATA codes.

Codes, cities and names come from `airportsdata`, plus the colloquial names people use
("o'hare", "reagan national", "dulles").

`airportsdata` (https://github.com/mborsetti/airportsdata, MIT) reads a CSV shipped in
its wheel; `load()` does that once (blocking: call it from an executor in HA).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
import re
from typing import Final

import airportsdata

ALIASES: Final[dict[str, str]] = {
    "o'hare": "ORD",
    "ohare": "ORD",
    "midway": "MDW",
    "reagan national": "DCA",
    "reagan": "DCA",
    "national airport": "DCA",
    "dulles": "IAD",
    "bwi": "BWI",
    "thurgood marshall": "BWI",
    "laguardia": "LGA",
    "la guardia": "LGA",
    "kennedy": "JFK",
    "newark": "EWR",
    "logan": "BOS",
    "hartsfield": "ATL",
    "love field": "DAL",
    "hobby": "HOU",
    "bush intercontinental": "IAH",
    "sea-tac": "SEA",
    "seatac": "SEA",
    "sky harbor": "PHX",
    "harry reid": "LAS",
    "mccarran": "LAS",
    "john wayne": "SNA",
    "lambert": "STL",
    "heathrow": "LHR",
    "gatwick": "LGW",
    "charles de gaulle": "CDG",
    "schiphol": "AMS",
    "pearson": "YYZ",
}

# The main airport of cities with several.
CITY_PREFERENCE: Final[dict[str, str]] = {
    "chicago": "ORD",
    "new york": "JFK",
    "washington": "DCA",
    "houston": "IAH",
    "dallas": "DFW",
    "london": "LHR",
    "paris": "CDG",
    "tokyo": "HND",
    "los angeles": "LAX",
    "san francisco": "SFO",
    "miami": "MIA",
}

# Three-letter words that are also IATA codes; a code must not be one of these.
COMMON_THREE_LETTER: Final[frozenset[str]] = frozenset(
    (
        "the and any are for how was who why can did get has had her him his its let "
        "may new not now off old one our out own say see she too two use way yes yet "
        "you all bad big day end far few fly got hot low man men run sea set sun top "
        "try war air arm art ask bag bar bed box bus car cut dog eat eye fun job key "
        "kid law lot map mom dad oil pay put red sit six ten win won ago via per tea "
        "pie ice gym lab lap leg lie lip log mix mud net pan pet pig pin pop pot raw "
        "rid row sad saw sky son tag tap tie tip toe ton toy van wet wig zip"
    ).split(" ")
)


@dataclass(frozen=True, slots=True)
class AirportIndex:
    """Lower-case name / city / alias → IATA code, and the known codes.

    `icao` and `titles` map an IATA code to its ICAO code (for METAR) and name.
    """

    names: dict[str, str]
    codes: frozenset[str]
    pattern: re.Pattern[str]
    icao: dict[str, str]
    titles: dict[str, str]

    def find(self, text: str) -> str | None:
        """Return the IATA code of the first airport named in lower-case `text`."""
        if match := self.pattern.search(text):
            return self.names[match.group(1)]
        for raw in text.split():
            word = raw.strip(",.'-")
            code = word.upper()
            if (
                len(word) == 3
                and code in self.codes
                and word not in COMMON_THREE_LETTER
            ):
                return code
        return None

    def code_for(self, place: str) -> str | None:
        """Return the IATA code when `place` is an airport's code or colloquial name.

        City names do not count: "weather in paris" is about the city.
        """
        if place in ALIASES:
            return ALIASES[place]
        code = place.upper()
        if code in self.codes and place not in COMMON_THREE_LETTER and len(place) == 3:
            return code
        return None


@cache
def load() -> AirportIndex:
    """Build the index from `airportsdata` (IATA table) and the aliases. Cached."""
    airports = airportsdata.load("IATA")
    names: dict[str, str] = {}
    for code, airport in airports.items():
        city = airport["city"].lower()
        if "international" in airport["name"].lower() and city not in names:
            names[city] = code
    names.update(CITY_PREFERENCE)
    names.update(ALIASES)
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return AirportIndex(
        names=names,
        codes=frozenset(airports),
        pattern=re.compile(rf"\b({alternatives})\b"),
        icao={code: a["icao"] for code, a in airports.items() if a["icao"]},
        titles={code: a["name"] for code, a in airports.items()},
    )

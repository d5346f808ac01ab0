"""Airport names → IATA codes.

Codes, cities and names come from `airportsdata`, plus the colloquial names people use
("o'hare", "reagan national", "dulles").

`airportsdata` (https://github.com/mborsetti/airportsdata, MIT) reads a CSV shipped in
its wheel; `load()` does that once (blocking: call it from an executor in HA).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
import re
from typing import Final

import airportsdata

ALIASES: Final[dict[str, str]] = {
    "o'hare": "ORD",
    "ohare": "ORD",
    "o hare": "ORD",
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
    "sea tac": "SEA",
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
    "haneda": "HND",
    "narita": "NRT",
    "changi": "SIN",
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
    "seattle": "SEA",
    "toronto": "YYZ",
    "frankfurt": "FRA",
    "amsterdam": "AMS",
}

# Three-letter words that are also IATA codes; a code must not be one of these.
# (Everyday words, the aviation and other abbreviations said in the same questions,
# "faa", "taf", "tsa", and day and month abbreviations. Kept as codes: "lax",
# "den" and "oak", which people say for those airports.)
COMMON_THREE_LETTER: Final[frozenset[str]] = frozenset(
    (
        "the and any are for how was who why can did get has had her him his its let "
        "may new not now off old one our out own say see she too two use way yes yet "
        "you all bad big day end far few fly got hot low man men run sea set sun top "
        "try war air arm art ask bag bar bed box bus car cut dog eat eye fun job key "
        "kid law lot map mom dad oil pay put red sit six ten win won ago via per tea "
        "pie ice gym lab lap leg lie lip log mix mud net pan pet pig pin pop pot raw "
        "rid row sad saw sky son tag tap tie tip toe ton toy van wet wig zip "
        "ace act add ado aft age aid ail aim ale amp ant ape app apt arc ark ash ate "
        "awe axe ban bat bay bee beg bet bib bid bin bit bob bog boo bow boy bra bud "
        "bug bum bun but buy bye cab cam cap cat cob cod cog con cop cot cow coy cry "
        "cub cue cup cur dab dam dew die dig dim din dip doc doe don dot dry dub dud "
        "due dug dye ear ebb egg ego elf elk elm emu era eve ewe fab fad fan fat fax "
        "fed fee fig fin fir fit fix flu foe fog fox fry fur gag gal gap gas gay gel "
        "gem gig gin god gum gun gut guy ham hat hay hem hen hew hex hey hid hip hit "
        "hob hoe hog hop hub hue hug hum hut icy ill imp ink inn ion ivy jab jam jar "
        "jaw jay jet jig jog jot joy jug jut keg ken kin kit lad lag lay led lid lit "
        "lob lug mad mar mat maw met mid mob mod mop mow mug mum nab nag nap nay nil "
        "nip nod nor nun nut oar oat odd ode oft opt orb ore owe owl pad pal par pat "
        "paw pea peg pen pep pew pit ply pod pro pry pub pun pup rag ram ran rap rat "
        "ray ref rib rig rim rip rob rod roe rot rub rug rum rut rye sag sap sat sew "
        "sex shy sin sip sir sis ski sly sob sod sop sow soy spa spy sty sub sue sum "
        "sup tab tad tan tar tax tee tin tot tow tub tug vat vet vie vow wad wag wax "
        "web wed wee wit woe wok woo wow yak yam yap yaw yea yew zap zen zoo "
        "faa taf tsa atc eta etd ifr vfr tbd usa gps bbq atm dvd pdf mph kph fyi abc "
        "cbs nbc nfl nba mlb nhl mls pga ufc "
        "mon tue thu fri jan feb apr jun jul aug sep oct nov dec"
    ).split(" ")
)

# Cities of "International" airports that are also everyday words or first names
# ("my mobile", "a banana", "david's flight"): never a name for the index.
COMMON_WORD_CITIES: Final[frozenset[str]] = frozenset(
    ("alice", "banana", "david", "marathon", "mobile")
)

# A shorter name would match words of ordinary questions ("", "a", "to", "at").
MIN_NAME_LENGTH: Final = 3


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


def usable_name(name: str) -> bool:
    """Return whether lower-case `name` may name an airport in free text.

    False for names shorter than `MIN_NAME_LENGTH` (an empty name matches every
    text), names without a letter and `COMMON_WORD_CITIES`.
    """
    return (
        len(name) >= MIN_NAME_LENGTH
        and any(c.isalpha() for c in name)
        and name not in COMMON_WORD_CITIES
    )


def build(airports: Mapping[str, airportsdata.Airport]) -> AirportIndex:
    """Build the index from an IATA table shaped like `airportsdata.load("IATA")`.

    `airports` maps an IATA code to a row with at least `city`, `name` and
    `icao`. The city of each "International" airport names it (the first such
    airport of a city wins), then `CITY_PREFERENCE` and `ALIASES`; a name that is
    not `usable_name` (a blank city, a one-letter one, an everyday word) is left
    out.
    """
    names: dict[str, str] = {}
    for code, airport in airports.items():
        city = airport["city"].strip().lower()
        if "international" in airport["name"].lower() and city not in names:
            names[city] = code
    names.update(CITY_PREFERENCE)
    names.update(ALIASES)
    names = {name: code for name, code in names.items() if usable_name(name)}
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return AirportIndex(
        names=names,
        codes=frozenset(airports),
        pattern=re.compile(rf"\b({alternatives})\b"),
        icao={code: a["icao"] for code, a in airports.items() if a["icao"]},
        titles={code: a["name"] for code, a in airports.items()},
    )


@cache
def load() -> AirportIndex:
    """Build the index of `airportsdata`'s IATA table (`build`). Cached."""
    return build(airportsdata.load("IATA"))

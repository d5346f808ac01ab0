"""Follow-ups: an elliptical turn takes the previous turn's category and slots.

After a weather answer, "what about tomorrow?" is the same forecast for tomorrow,
"and in denver?" the same day in Denver and "and inside?" a question about the
home's own sensors; after a sports answer, "how about the
giants?" is that team; after an airport answer, or Athena's own "Which airport?",
"bwi" or "baltimore" is that airport. Only what the router leaves as general is
read this way: a full question is routed on its own, and after a device command or
a general question nothing is inherited. Pure and sub-millisecond, like the router.
"""

from __future__ import annotations

import re

from .router import (
    INDOOR,
    Category,
    Route,
    league_of,
    location_of,
    normalize,
    team_of,
    when_of,
)
from .sources import airports

_LEAD = re.compile(
    r"^(?:(?:ok(?:ay)?|and|so|then|also|hmm|well|but)\b,?\s*)*"
    r"(?:(?:(?:what|how)\s+about|what\s+of|same\s+(?:for|in)|and|for|in|at|"
    r"how(?:'s| is| are)(?:\s+it)?|what(?:'s| is)\s+it\s+like)\b)?\s*"
)
_TRAIL = re.compile(r"\s*(?:then|instead|too|as well|please)$")
_NOW = re.compile(r"\b(?:now|currently|at the moment)\b")
_PREPOSITION = re.compile(r"^(?:in|for|at|near|around)\s")
_PRONOUNS = frozenset(("it", "that", "this", "those", "them", "there", "so", "you"))
# Words no place name has: "who wrote hamlet" or "tell me a joke" after a weather
# answer is a question of its own, not the weather in a place of that name.
_NOT_A_PLACE = frozenset(
    "who what when where why how which whose tell me is was are were do does did "
    "can could will would should shall i you my your it its a an please give say "
    "sing play set turn make show write wrote written explain joke".split()
)
MAX_WORDS = 5  # a follow-up is short; a longer sentence is a question of its own


def _remainder(text: str) -> str | None:
    """Return the words after "what about", "and", ...; None when it is too long."""
    rest = _TRAIL.sub("", _LEAD.sub("", normalize(text), count=1)).strip(" ,.?!")
    if not rest or len(rest.split()) > MAX_WORDS:
        return None
    return rest


def _weather(rest: str, previous: Route) -> Route | None:
    if INDOOR.search(rest):
        return Route(Category.STATE)  # "and inside?": the home's own sensors
    when = when_of(rest)  # "now" when no time word is named
    now = _NOW.search(rest) is not None
    place = location_of(rest if _PREPOSITION.match(rest) else f"in {rest}")
    if place in _PRONOUNS or (place and _NOT_A_PLACE.intersection(place.split())):
        place = None
    if when == "now" and not now and place is None:
        return None
    slots = dict(previous.slots)
    if when != "now" or now:
        slots["when"] = when
    if place is not None:
        slots["location"] = place
    return Route(Category.WEATHER, slots=slots)


def _sports(rest: str, previous: Route) -> Route | None:
    team = team_of(rest)  # by ESPN's name ("o's" -> "orioles")
    league = league_of(rest)
    if team is None and league is None:
        return None
    slots = {"team": team} if team else {}
    if league or (not team and "league" in previous.slots):
        slots["league"] = league or previous.slots["league"]
    return Route(Category.SPORTS, slots=slots)


def _airport(rest: str) -> Route | None:
    index = airports.load()
    code = index.find(rest) or index.code_for(rest.replace(" ", ""))
    return Route(Category.AIRPORT, slots={"airport": code}) if code else None


def resolve(text: str, decision: Route, previous: Route | None) -> Route:
    """Return the route of `text`, reading it as a follow-up of `previous` if it is.

    `decision` is the router's route of `text` alone; `previous` the route the last
    turn of the conversation was answered on (None: no earlier turn). Returns
    `decision` unless it is general, short, and names what the previous weather,
    sports or airport turn can take: a time or a place, a team or a league, an
    airport. The returned route keeps `decision.text`.
    """
    if previous is None or decision.category is not Category.GENERAL:
        return decision
    if (rest := _remainder(text)) is None:
        return decision
    if previous.category is Category.WEATHER:
        resolved = _weather(rest, previous)
    elif previous.category is Category.SPORTS:
        resolved = _sports(rest, previous)
    elif previous.category is Category.AIRPORT:
        resolved = _airport(rest)
    else:
        resolved = None
    if resolved is None:
        return decision
    return Route(resolved.category, slots=resolved.slots, text=decision.text)

"""Rule-based utterance router: decides in microseconds where a turn goes, no LLM.

`route(text)` returns a `Route`:
  greeting  hello / good morning / thanks: answered locally
  time      the current time or date: answered locally
  control   a device command (HA's intents first)
  state     a question about a device (HA's intents)
  weather   slots `when`, `location`
  sports    slots `team`, `league`
  airport   slot `airport` (IATA code; none: the home airport of the options)
  general   everything else: the LLM
  multi     several requests joined by "and" / "then": `parts`, in order
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
import re

from .sources import airports
from .sources.teams import COMMON_WORDS, LEAGUE_WORDS, TEAM_LEAGUES


class Category(StrEnum):
    """Where an utterance goes."""

    GREETING = "greeting"
    CONTROL = "control"
    STATE = "state"
    WEATHER = "weather"
    SPORTS = "sports"
    AIRPORT = "airport"
    TIME = "time"
    GENERAL = "general"
    MULTI = "multi"


@dataclass(frozen=True, slots=True)
class Route:
    """A routing decision.

    `reply` names a local answer (hello / morning / afternoon / evening / thanks, or
    time / date); `slots` are lower-case strings (`airport` is an IATA code);
    `parts` are the routes of a multi request, in order.
    """

    category: Category
    reply: str = ""
    slots: dict[str, str] = field(default_factory=dict)
    parts: tuple[Route, ...] = ()
    text: str = ""


_NAME = r"(?:\s*,?\s*(?:athena|jarvis|there|everyone|buddy|friend))?"
_GREETINGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("morning", re.compile(rf"^(?:good )?morning{_NAME}$")),
    ("afternoon", re.compile(rf"^good afternoon{_NAME}$")),
    ("evening", re.compile(rf"^good (?:evening|night){_NAME}$")),
    (
        "thanks",
        re.compile(
            r"^(?:(?:thanks?|thank you|cheers|ta)(?: (?:so|very) much)?"
            r"(?: athena| jarvis)?[, ]*(?:that'?s (?:all|it)|that will be all)?"
            r"|that'?s (?:all|it)(?:,? thanks?(?: you)?)?)$"
        ),
    ),
    (
        "hello",
        re.compile(
            rf"^(?:hi|hello|hey|hiya|howdy|yo|greetings|hey there|hi there|hello there)"
            rf"{_NAME}(?:[, ]+(?:how'?s it going|how are you(?: doing)?|what'?s up))?$"
            r"|^(?:how'?s it going|how are you(?: doing)?(?: today)?|what'?s up)"
            rf"{_NAME}$"
        ),
    ),
)
_TIME = re.compile(
    r"^(?:(?:hey |ok )?(?:athena|jarvis),? )?"
    r"(?:what(?:'?s| is) the time|what time is it|"
    r"(?:do you know |can you tell me )?what time it is|tell me the time|"
    r"what(?:'?s| is) the time(?: right)? now|what time is it(?: right)? now)"
    r"(?: please)?$"
)
_DATE = re.compile(
    r"^(?:what(?:'?s| is) (?:today'?s date|the date(?: today)?)|"
    r"what day is (?:it|today)(?: today)?|what(?:'?s| is) the day today|"
    r"what(?:'?s| is) today|what date is it(?: today)?)(?: please)?$"
)
_CONTROL = re.compile(
    r"^(?:please |can you |could you |would you |go ahead and )?"
    r"(?:turn|switch|set|dim|brighten|open|close|shut|lock|unlock|start|stop|pause|"
    r"resume|play|activate|deactivate|arm|disarm|raise|lower|increase|decrease|"
    r"toggle|run|enable|disable|make|change|put)\b"
)
_DEVICE = (
    r"light|lights|lamp|lamps|door|doors|window|windows|lock|locks|locked|unlocked|"
    r"garage|fan|fans|heater|heating|thermostat|ac|air conditioning|blinds?|"
    r"curtains?|shades?|switch|plug|tv|television|speaker|vacuum|sprinklers?|"
    r"alarm|oven|dishwasher|washer|dryer|camera|sensor"
)
_ROOM = (
    r"kitchen|living room|bedroom|bathroom|office|basement|hallway|garage|attic|"
    r"dining room|nursery|den|porch|patio|upstairs|downstairs|inside|indoors|here"
)
_NOT_A_COMMAND = (
    r"(?!(?:what|what's|who|who's|why|how|how's|when|where|which|is|are|was|were|"
    r"do|does|did|can|could|will|would|should|i|i'm|it's|let's|tell|show)\b)"
)
# Terse commands HA's intents understand: "bedroom fan off", "music stop", "next".
_TERSE_CONTROL = re.compile(
    rf"^{_NOT_A_COMMAND}(?:[\w'-]+ ){{1,5}}(?:on|off)(?: please)?$"
    r"|^(?:(?:the )?(?:music|song|track|tv|television|media|movie|video|radio|"
    r"speaker|playback|podcast|audio) )?"
    r"(?:stop|pause|resume|unpause|continue|play|next|skip|previous|mute|unmute|"
    r"louder|quieter)"
    r"(?: (?:the |this |that |my )?(?:music|song|track|it|this|that|playback|tv|"
    r"video|movie|podcast|audio|one))?(?: please)?$"
    r"|^(?:volume|sound) (?:up|down)(?: please)?$"
    # Dismissals: HA's "never mind" (it says nothing), never a model's reply.
    r"|^(?:oh |no |okay |ok )?(?:never ?mind|forget (?:it|that|about it)|"
    r"cancel(?: (?:that|it|this))?|nothing|no thanks?|don'?t worry(?: about it)?)"
    r"(?: then)?(?: please)?$"
)
# Questions about the home HA's intents answer: "are any windows open", a sensor's
# value, a device's battery.
_STATE_QUESTION = re.compile(
    r"^(?:are|is) (?:there )?(?:any|anything|anyone|anybody|something|somebody|all)\b"
    r"|\bbatter(?:y|ies)\b"
    r"|^(?:which|what) (?:lights?|doors?|windows?|locks?|devices?|fans?|switches?|"
    r"covers?|blinds?|shades?|curtains?|sensors?|plugs?|outlets?|entities)\b"
    r"|^what(?:'s| is| are) the (?:[\w'-]+ ){0,4}(?:reading|value|level|power|"
    r"energy|consumption|usage|status|state|position)s?\b"
)
_STATE = re.compile(
    r"^(?:is|are|was|were|did i leave|which|how many|what(?:'?s| is) the "
    r"(?:temperature|humidity|status|state|level|brightness|setting) (?:in|of|on|at)|"
    r"how (?:warm|hot|cold|humid) is (?:it in )?the)\b"
    rf".*\b(?:{_DEVICE}|{_ROOM}|open|closed|on|off|running)\b"
)
_INDOOR = re.compile(rf"\b(?:{_DEVICE}|{_ROOM})\b")
# A temperature or humidity question about a room ("how warm is it in here").
_INDOOR_CLIMATE = re.compile(
    r"\b(?:temperature|temp|degrees|warm|hot|cold|cool|chilly|humid|humidity)\b"
)
_WEATHER = re.compile(
    r"\b(?:weather|forecast|rain|raining|rainy|snow|snowing|snowy|sleet|hail|"
    r"sunny|sunshine|cloudy|overcast|windy|wind|gusts?|storms?|stormy|"
    r"thunderstorms?|lightning|fog|foggy|umbrella|jacket|coat|sunscreen|"
    r"humid|humidity|precipitation|drizzle|frost|freezing|heat wave|uv index|"
    r"high today|low tonight)\b"
)
_WEATHER_TEMP = re.compile(
    r"\b(?:temperature|degrees|cold|colder|hot|hotter|warm|warmer|chilly|"
    r"cool|cooler)\b"
)
_WEATHER_HINT = re.compile(
    r"\b(?:outside|out there|going to|gonna|will it|tonight|tomorrow|today|"
    r"weekend|this week|morning|afternoon|evening|later|in \w+)\b"
)
_SPORTS_CONTEXT = re.compile(
    r"\b(?:game|games|play|playing|played|plays|score|scores|scored|won|win|wins|"
    r"winning|lose|lost|losing|beat|match|matches|fixture|kickoff|tip ?off|"
    r"standings|schedule|season|playoffs?|vs|versus|next game|final score|"
    r"record|how (?:did|are|were|do) (?:the )?.+ (?:do|doing|look|looking))\b"
)
_AIRPORT_CONTEXT = re.compile(
    r"\b(?:airports?|flights?|flying|delays?|delayed|ground stops?|ground delay|"
    r"departures?|arrivals?|runways?|tarmac|faa|metar|taf|terminal)\b"
)
_HOME_AIRPORT = re.compile(
    r"\b(?:the|my|our|home|local) airport\b|"
    r"\b(?:flights?|departures?|arrivals?) (?:are |is )?(?:delayed|on time|late)\b|"
    r"\bflight delays\b"
)
_LEAGUE_ONLY = re.compile(
    r"\b(?:scores?|standings|results?|schedule|table|games?|highlights)\b"
)
_SPLIT = re.compile(r"\s*,?\s*\b(?:and then|and also|and|then|also|plus)\b\s*")
WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_WHEN_WORDS = re.compile(
    r"\b(tonight|tomorrow|today|weekend|this morning|this afternoon|this evening|"
    + "|".join(WEEKDAYS)
    + r")\b"
)
_STOP_WORDS = frozenset(
    (
        *WEEKDAYS,
        *("today", "tonight", "tomorrow", "weekend", "this", "next", "morning"),
        *("afternoon", "evening", "night", "week", "right", "now", "later"),
        *("the", "a", "my", "our", "please"),
    )
)
_PREPOSITION = re.compile(r"\b(?:in|for|at|near|around)\s+")
_CLEAN = re.compile(r"[^\w\s',.-]+")
_TEAM_PATTERN = re.compile(
    r"\b("
    + "|".join(re.escape(t) for t in sorted(TEAM_LEAGUES, key=len, reverse=True))
    + r")\b"
)
_LEAGUE_PATTERN = re.compile(
    r"\b("
    + "|".join(re.escape(t) for t in sorted(LEAGUE_WORDS, key=len, reverse=True))
    + r")\b"
)


def normalize(text: str) -> str:
    """Lower-case `text`, unify apostrophes, drop punctuation but ' , . and -."""
    text = text.lower().replace("\u2019", "'")
    return " ".join(_CLEAN.sub(" ", text).split()).strip(" ,.?!")


def _when(words: str) -> str:
    """Return the `when` slot: now, today, tonight, tomorrow, a weekday, weekend."""
    match = _WHEN_WORDS.search(words)
    if match is None:
        return "now"
    found = match.group(1)
    if found.startswith("this "):
        return "tonight" if found == "this evening" else "today"
    return found


_PLACE_BEFORE_WEATHER = re.compile(
    r"^(?:what(?:'s| is| will be)|how(?:'s| is)) the ((?:[\w'-]+ ){1,3})"
    r"(?:weather|forecast)\b"
)
_NOT_A_PLACE = frozenset(
    (
        "current",
        "local",
        "outside",
        "today's",
        "tomorrow's",
        "tonight's",
        "weekend",
        "weekend's",
        "latest",
        "usual",
        "morning",
        "evening",
        "afternoon",
        "week's",
    )
)


def _location(words: str) -> str | None:
    """Return the place named in a weather question, or None.

    After in / for / at, up to a time word ("in denver today"), or before
    "weather" ("what's the denver weather like").
    """
    if (match := _PLACE_BEFORE_WEATHER.match(words)) and not (
        set(match.group(1).split()) & (_NOT_A_PLACE | _STOP_WORDS)
        or _INDOOR.search(match.group(1))
    ):
        return match.group(1).strip()
    for match in _PREPOSITION.finditer(words):
        place: list[str] = []
        for word in words[match.end() :].replace(",", " ").split():
            if word in _STOP_WORDS or word in ("in", "for", "at", "on", "near"):
                break
            place.append(word)
        if place and not _INDOOR.search(" ".join(place)):
            return " ".join(place[:3]).strip(" .")
    return None


def _sports(words: str) -> Route | None:
    """Match a team (a common-word name only next to a sports word) or a league."""
    context = _SPORTS_CONTEXT.search(words) is not None
    league = LEAGUE_WORDS[m.group(1)] if (m := _LEAGUE_PATTERN.search(words)) else None
    team = next(
        (
            name
            for m in _TEAM_PATTERN.finditer(words)
            if (name := m.group(1)) not in COMMON_WORDS or context
        ),
        None,
    )
    if team is None and (league is None or not (context or _LEAGUE_ONLY.search(words))):
        return None
    slots = {"team": team} if team else {}
    if league:
        slots["league"] = league
    return Route(Category.SPORTS, slots=slots)


def _weather(words: str) -> Route | None:
    if not (
        _WEATHER.search(words)
        or (
            _WEATHER_TEMP.search(words)
            and _WEATHER_HINT.search(words)
            and not _INDOOR.search(words)
        )
    ):
        return None
    return Route(Category.WEATHER, slots=_weather_slots(words))


def _weather_slots(words: str) -> dict[str, str]:
    """Return `when` and, when a place is named, `location`."""
    slots = {"when": _when(words)}
    if (place := _location(words)) is not None:
        slots["location"] = place
    return slots


def _single(words: str) -> Route:
    """Classify one request (no splitting)."""
    for reply, pattern in _GREETINGS:
        if pattern.match(words):
            return Route(Category.GREETING, reply)
    if _TIME.match(words):
        return Route(Category.TIME, "time")
    if _DATE.match(words):
        return Route(Category.TIME, "date")
    if _AIRPORT_CONTEXT.search(words):
        if code := airports.load().find(words):
            return Route(Category.AIRPORT, slots={"airport": code})
        if _HOME_AIRPORT.search(words):
            return Route(Category.AIRPORT)  # the home airport of the options
    if _CONTROL.match(words) or _TERSE_CONTROL.match(words):
        return Route(Category.CONTROL)
    if (
        _STATE.match(words)
        or _STATE_QUESTION.search(words)
        or (_INDOOR_CLIMATE.search(words) and _INDOOR.search(words))
    ):
        return Route(Category.STATE)
    if (sports := _sports(words)) is not None:
        return sports
    if (weather := _weather(words)) is not None:
        place = weather.slots.get("location", "")
        if code := airports.load().code_for(place):
            return Route(Category.AIRPORT, slots={"airport": code})
        return weather
    return Route(Category.GENERAL)


def route(text: str) -> Route:
    """Classify `text` (any case and punctuation).

    Pure apart from the cached airport index (`airports.load()`, loaded once).
    """
    words = normalize(text)
    whole = _single(words)
    pieces = [p for p in _SPLIT.split(words) if p]
    if len(pieces) > 1:
        parts = tuple(
            Route(r.category, r.reply, r.slots, text=piece)
            for piece in pieces
            if (r := _single(piece))
        )
        if all(p.category not in (Category.GENERAL, Category.GREETING) for p in parts):
            return Route(Category.MULTI, parts=parts, text=words)
    return Route(whole.category, whole.reply, whole.slots, text=words)


def reroute(text: str, category: Category) -> Route | None:
    """Route normalized `text` to `category` (a model's choice) with rule slots.

    weather: `when` (and `location`); sports: a team or league named anywhere,
    even without a sports word; airport: an airport named, else the home airport.
    None when sports names no team or league.
    """
    if category is Category.WEATHER:
        return Route(Category.WEATHER, slots=_weather_slots(text), text=text)
    if category is Category.SPORTS:
        slots = {}
        if match := _TEAM_PATTERN.search(text):
            slots["team"] = match.group(1)
        if match := _LEAGUE_PATTERN.search(text):
            slots["league"] = LEAGUE_WORDS[match.group(1)]
        return Route(Category.SPORTS, slots=slots, text=text) if slots else None
    if category is Category.AIRPORT:
        code = airports.load().find(text)
        return Route(
            Category.AIRPORT, slots={"airport": code} if code else {}, text=text
        )
    return None


# The router's slot readers, shared with the follow-up resolver (followup.py).
TEAM_PATTERN = _TEAM_PATTERN
LEAGUE_PATTERN = _LEAGUE_PATTERN
when_of = _when
location_of = _location

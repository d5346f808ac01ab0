"""Rule-based utterance router: decides in microseconds where a turn goes, no LLM.

`route(text)` returns a `Route` with a category:
  greeting  hello / good morning / thanks: answered locally
  time      the current time or date: answered locally
  control   a device command (HA intents first; Assist tools when allowed)
  state     a question about a device's state (HA intents)
  general   everything else: the LLM
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import re


class Category(StrEnum):
    """Where an utterance goes."""

    GREETING = "greeting"
    CONTROL = "control"
    STATE = "state"
    TIME = "time"
    GENERAL = "general"


@dataclass(frozen=True, slots=True)
class Route:
    """A routing decision: `category`, and `kind` for local answers.

    `kind` is one of hello / morning / afternoon / evening / thanks (greetings) or
    time / date (time), else "".
    """

    category: Category
    kind: str = ""


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
            r"|that'?s (?:all|it)(?:,? thanks?(?: you)?)?|never ?mind)$"
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
    r"^(?:please |can you |could you |would you )?"
    r"(?:turn|switch|set|dim|brighten|open|close|shut|lock|unlock|start|stop|pause|"
    r"resume|play|activate|deactivate|arm|disarm|raise|lower|increase|decrease|"
    r"toggle|run|enable|disable|make)\b"
)
_STATE = re.compile(
    r"^(?:is|are|was|were|did i leave|what(?:'?s| is) the (?:temperature|humidity|"
    r"status|state|level|brightness) (?:in|of|on|at)|how (?:warm|hot|cold|humid) is "
    r"(?:it in )?the)\b.*\b(?:light|lights|lamp|door|doors|window|windows|lock|locked|"
    r"unlocked|garage|fan|heater|thermostat|blinds?|curtains?|shades?|switch|"
    r"plug|tv|open|closed|on|off|running|kitchen|living room|bedroom|office|"
    r"basement|hallway|bathroom)\b"
)
_CLEAN = re.compile(r"[^\w\s',]+")


def normalize(text: str) -> str:
    """Lower-case `text`, unify apostrophes, drop punctuation except ' and ,."""
    text = text.lower().replace("\u2019", "'")
    return " ".join(_CLEAN.sub(" ", text).split()).strip(" ,")


def route(text: str) -> Route:
    """Classify `text` (any case and punctuation). Pure, no I/O."""
    words = normalize(text)
    for kind, pattern in _GREETINGS:
        if pattern.match(words):
            return Route(Category.GREETING, kind)
    if _TIME.match(words):
        return Route(Category.TIME, "time")
    if _DATE.match(words):
        return Route(Category.TIME, "date")
    if _CONTROL.match(words):
        return Route(Category.CONTROL)
    if _STATE.match(words):
        return Route(Category.STATE)
    return Route(Category.GENERAL)

"""The completeness check: a fact reply must carry what the question asked for.

The grounding check (`grounding.ungrounded`) catches a number that is not in the
facts; it passes a reply with no number at all ("Tomorrow is a part of the weather
North."), a condition the facts contradict ("sunny" when they say rain), a team
that is not in them, or "no delays" while the FAA reports a ground stop. Small
local models write exactly these. This check reads the question, the reply and
the facts block as the sources write it (`sources/weather.py`, `sports.py`,
`airport.py`) and says which of its checks the reply fails:

- weather: the figures asked for (the current temperature for now, a high or low
  for a day, the precipitation chance for rain or an umbrella, the wind for wind,
  the humidity for humidity) and, for a plain "what's the weather", a condition;
  every condition named (or denied, or a "yes"/"no" to "will it rain") agrees with
  the facts; a number said to be a high, a low, degrees, a percentage or a wind is
  one; the units are the facts' units;
- sports: both numbers of the score, or the next game's day and opponent (what
  the question asks for, else what the facts have); no team that is not in the
  facts; "won"/"lost" as the facts say, and no final verdict on a live game;
- airport: the FAA status as the facts state it (a delay, ground stop, ground
  delay program or closure is mentioned; "no delays" only when there are none)
  and, when the question asks about the weather, the flight category or the wind.

A compound reply is checked block by block, each fact block against its part of
the question (`router.route`). Numbers may be digits or English words ("seventy
two", "minus three"). Pure functions, no model call: microseconds per reply.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
import re

from .grounding import ungrounded
from .router import Category, route
from .sources.teams import ALIASES, LEAGUES, TEAM_LEAGUES
from .sources.weather import SCALES, SPOKEN_UNITS

# --- numbers, as digits or words --------------------------------------------------

_SMALL = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve "
        "thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {
    word: 10 * value
    for value, word in enumerate(
        "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2
    )
}
_DIGITS = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?!\.\d)")
_WORD = re.compile(r"[a-z]+")
_NEGATIVE_BEFORE = re.compile(r"(?:(?:minus|negative)\s+|(?:^|[^\d\s])\s*[-\u2212])$")
_BELOW_ZERO = re.compile(r"^\s*(?:degrees?\s+)?below\s+zero")


@dataclass(frozen=True, slots=True)
class Mention:
    """A number in a reply: its value and where it is (`start`, `end` in the text)."""

    value: float
    start: int
    end: int


def _below_hundred(words: list[str]) -> tuple[int, int]:
    """Return the number under 100 that `words` start with, and its word count."""
    if not words:
        return 0, 0
    if words[0] in _SMALL:
        return _SMALL[words[0]], 1
    if words[0] in _TENS:
        if len(words) > 1 and 0 < _SMALL.get(words[1], 0) < 10:
            return _TENS[words[0]] + _SMALL[words[1]], 2
        return _TENS[words[0]], 1
    return 0, 0


def _spelled(words: list[str]) -> tuple[int, int]:
    """Return the number `words` start with ("two hundred and five"), word count."""
    value, used = _below_hundred(words)
    if words[:2] in (["a", "hundred"], ["one", "hundred"]):
        value, used = 1, 1
    elif not used or not 0 < value < 10:
        return value, used
    if words[used : used + 1] != ["hundred"]:
        return value, used
    used += 1
    skip = 1 if words[used : used + 1] == ["and"] else 0
    tail, more = _below_hundred(words[used + skip :])
    if more:
        return value * 100 + tail, used + skip + more
    return value * 100, used


def _word_numbers(text: str) -> Iterator[Mention]:
    """Numbers written as words: "seven", "seventy two", "twenty-one", "a hundred"."""
    words = list(_WORD.finditer(text))
    index = 0
    while index < len(words):
        value, used = _spelled([w.group() for w in words[index : index + 5]])
        if not used:
            index += 1
            continue
        yield Mention(float(value), words[index].start(), words[index + used - 1].end())
        index += used


def numbers(text: str) -> list[Mention]:
    """Return the numbers of `text` (lower case), digits and words, signed.

    "-3", "minus 3", "negative three" and "3 below zero" are -3; "24-3" (a score)
    is 24 and 3; the parts of a clock time ("4:10") are not numbers.
    """
    found = []
    for match in _DIGITS.finditer(text):
        start, end = match.span()
        if text[max(start - 1, 0) : start] == ":" or text[end : end + 1] == ":":
            continue
        found.append(Mention(float(match.group()), start, end))
    found.extend(
        m
        for m in _word_numbers(text)
        if not re.search(r"below\s+$", text[: m.start])  # the "zero" of "below zero"
    )
    return [
        Mention(-m.value, m.start, m.end)
        if _NEGATIVE_BEFORE.search(text[: m.start]) or _BELOW_ZERO.match(text[m.end :])
        else m
        for m in sorted(found, key=lambda m: m.start)
    ]


def _says(mentions: list[Mention], value: float) -> bool:
    return any(abs(m.value - value) < 0.01 for m in mentions)


# --- what a reply says in words ---------------------------------------------------

_NEGATION = re.compile(
    r"\b(?:no|not|never|without|nor|\w+n't|cannot)\b(?:\s+\S+){0,3}\s*$"
)
# A "yes" or "no" answer opens the reply: "No, ..." (not "No delays ...").
_YES = re.compile(r"^\W*(?:yes|yeah|yep|yup|sure|definitely)\b")
_NO = re.compile(r"^\W*(?:no|nope|not really|not at all)\s*(?:[,.!:;]|$)")


# A refusal or a model talking about itself: not an answer, whatever follows.
_REFUSAL = re.compile(
    r"\bas an? (?:[\w-]+ ){0,3}(?:ai|assistant|language model)\b|"
    r"\bi (?:don't|do not|can't|cannot) (?:have|provide|access|give)\b|"
    r"\bsorry for your loss\b|\bi'm not sure what to say\b"
)


def _negated(text: str, start: int) -> bool:
    """Whether a negation stands in the three words before `start`."""
    return bool(_NEGATION.search(text[max(start - 40, 0) : start]))


def _sentence_start(text: str, position: int) -> int:
    cut = max(text.rfind(mark, 0, position) for mark in ".!?;")
    return cut + 1


_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_WEEKDAY = re.compile(rf"\b({'|'.join(_WEEKDAYS)})\b")
_DATE = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?\s+(\d+)(?:st|nd|rd|th)?\b"
)


def _wrong_dates(reply: str, facts: str) -> bool:
    """Whether the reply names a weekday or a date ("October 4") not in the facts."""
    known = facts.lower()
    days = set(_WEEKDAY.findall(known))
    dates = {(m[:3], int(d)) for m, d in _DATE.findall(known)}
    return any(day not in days for day in _WEEKDAY.findall(reply)) or any(
        (m[:3], int(d)) not in dates for m, d in _DATE.findall(reply)
    )


# --- weather ----------------------------------------------------------------------

# Condition families a reply may name; a fact condition allows some of them.
_CONDITIONS: dict[str, re.Pattern[str]] = {
    "sun": re.compile(r"\b(?:sunny|sunshine|sun|clear|bright)\b"),
    "cloud": re.compile(r"\b(?:cloudy|clouds?|overcast|gr[ae]y)\b"),
    "rain": re.compile(
        r"\b(?:rain|rainy|raining|rains|rainfall|showers?|drizzle|wet|pour\w*|"
        r"downpours?)\b"
    ),
    "snow": re.compile(r"\b(?:snow|snowy|snowing|snowfall|flurries|sleet)\b"),
    "storm": re.compile(r"\b(?:storms?|stormy|thunder\w*|lightning)\b"),
    "fog": re.compile(r"\b(?:fog|foggy|mist|misty|haze|hazy)\b"),
}
_PRECIPITATION = frozenset(("rain", "snow", "storm"))
_DRY = re.compile(r"\bdry\b")
# The sources' condition words (`weather.CONDITION_WORDS` values) -> the families
# a reply may name for them.
_ALLOWED: dict[str, frozenset[str]] = {
    "clear": frozenset(("sun",)),
    "sunny": frozenset(("sun",)),
    "partly cloudy": frozenset(("sun", "cloud")),
    "cloudy": frozenset(("cloud",)),
    "fog": frozenset(("fog", "cloud")),
    "rainy": frozenset(("rain", "cloud")),
    "heavy rain": frozenset(("rain", "cloud")),
    "snow": frozenset(("snow", "cloud")),
    "sleet": frozenset(("snow", "rain", "cloud")),
    "hail": frozenset(("storm", "rain", "cloud")),
    "thunderstorms": frozenset(("storm", "rain", "cloud")),
    "thunderstorms with rain": frozenset(("storm", "rain", "cloud")),
    "windy": frozenset(("sun", "cloud")),
    "windy and cloudy": frozenset(("cloud",)),
    "exceptional weather": frozenset(_CONDITIONS),
}
_LIKELY_WET = re.compile(
    r"\b(?:high|good|strong|big)\s+chance\b|"
    r"\b(?:precipitation|rain|snow)\s+(?:is\s+)?(?:expected|likely)\b"
)
_LIKELY_DRY = re.compile(r"\b(?:low|small|slight|little|no)\s+chance\b|\bunlikely\b")
_HEAVY = re.compile(r"\b(?:heavy|torrential|downpours?|pouring|buckets)\b")
_HEAVY_FACTS = frozenset(("heavy rain", "thunderstorms", "thunderstorms with rain"))
_FREEZING = re.compile(
    r"\b(?:below (?:zero|freezing)|freez\w*|frost\w*|icy|ice)\b(?!\s+(?:point|warning))"
)
_CHANCE_OF = re.compile(r"(?:chance|probability|risk|odds)\s+(?:of|for)\s+(?:\w+\s+)?$")

_ASK_RAIN = re.compile(
    r"\b(?:rain\w*|umbrella|pour\w*|showers?|wet|dry|drizzl\w*|precipitation|"
    r"storm\w*|thunder\w*|snow\w*|sleet|hail)\b"
)
_ASK_TEMPERATURE = re.compile(
    r"\b(?:cold\w*|hot\w*|warm\w*|cool\w*|temperature|degrees|freez\w*|frost\w*|"
    r"jacket|coat|sweater|shorts|t-shirt|scorcher|heat|chilly|zero|high|low|drop|"
    r"wear)\b"
)
_ASK_WIND = re.compile(r"\b(?:wind|windy|breez\w*|gust\w*)\b(?!\s+chill)")
_ASK_HUMIDITY = re.compile(r"\b(?:humid\w*|muggy)\b")
_ASK_CONDITION = {
    "sun": re.compile(r"\b(?:sunny|sun|sunglasses|sunscreen|clear)\b"),
    "rain": re.compile(r"\b(?:rain\w*|umbrella|pour\w*|showers?|wet|drizzl\w*)\b"),
    "snow": re.compile(r"\bsnow\w*\b"),
    "storm": re.compile(r"\b(?:storm\w*|thunder\w*)\b"),
    "cloud": re.compile(r"\bcloud\w*\b"),
}

_TEMPERATURE_UNIT = re.compile(
    r"^\s*(?:°\s*[cf]?\b|º|degrees?\b|celsius\b|fahrenheit\b)"
)
_PERCENT_UNIT = re.compile(r"^\s*(?:%|percent\b|per cent\b)")
_WIND_UNIT = re.compile(
    r"^\s*(?:km/h|kph\b|kmh\b|kilomet(?:er|re)s?\s+(?:per|an)\s+hour|mph\b|"
    r"miles?\s+(?:per|an)\s+hour|m/s\b|met(?:er|re)s?\s+per\s+second|knots?\b|kt\b)"
)
_HIGH_LABEL = re.compile(
    r"\b(?:highs?|max(?:imum)?|tops?|topping|peak\w*)\b\W*(?:[a-z]+\W+){0,2}$"
)
_LOW_LABEL = re.compile(
    r"\b(?:lows?|min(?:imum)?|down\s+to|drops?\s+to|dipping\s+to|dips?\s+to)\b\W*"
    r"(?:[a-z]+\W+){0,2}$"
)
_WIND_LABEL = re.compile(r"\bwinds?\b\W*(?:[a-z]+\W+){0,3}$")


@dataclass(slots=True)
class _Period:
    """One weather line: "Now: ...", "Tomorrow (Sunday, October 4): ..."."""

    label: str
    conditions: list[str] = field(default_factory=list)
    temperature: float | None = None
    feels: float | None = None
    high: float | None = None
    low: float | None = None
    chance: float | None = None
    humidity: float | None = None
    wind: float | None = None
    amount: float | None = None


# The items of a weather line as `weather.summarize` / `current_line` write them.
_WEATHER_ITEMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("temperature", re.compile(r"temperature (-?[\d.]+) degrees")),
    ("feels", re.compile(r"feels like (-?[\d.]+) degrees")),
    ("high", re.compile(r"high (-?[\d.]+) degrees")),
    ("low", re.compile(r"low (-?[\d.]+) degrees")),
    ("chance", re.compile(r"([\d.]+) percent chance of precipitation")),
    ("humidity", re.compile(r"humidity ([\d.]+) percent")),
    ("wind", re.compile(r"wind (?:up to )?([\d.]+) (.+)")),
    ("amount", re.compile(r"([\d.]+) (.+) of precipitation")),
)
# "Tomorrow (Sunday, October 4): ..." and its "Tomorrow also: ..."
_WEATHER_LINE = re.compile(r"^(\w+)(?: \([^)]*\))?(?: also)?: (.*?)\.?$")
# The facts' units as `weather.py` says them (the scale in the title, the wind in
# words), by the symbols `_wrong_units` knows.
_UNIT_NAMES = {
    **{scale.lower(): symbol for symbol, scale in SCALES.items()},
    **{SPOKEN_UNITS[symbol]: symbol for symbol in ("km/h", "mph")},
}


def _weather_periods(facts: str) -> tuple[list[_Period], set[str]]:
    """Return the periods of a weather block and the unit symbols it uses.

    A period's lines ("Tomorrow (...): ..." and "Tomorrow also: ...") are one.
    """
    periods: dict[str, _Period] = {}
    units = {symbol for name, symbol in _UNIT_NAMES.items() if name in facts.lower()}
    for line in facts.splitlines():
        match = _WEATHER_LINE.match(line.strip())
        if match is None or line.startswith("Weather for"):
            continue
        label = match.group(1).lower()
        period = periods.setdefault(label, _Period(label=label))
        for item in match.group(2).split(", "):
            for name, pattern in _WEATHER_ITEMS:
                if found := pattern.fullmatch(item):
                    setattr(period, name, float(found.group(1)))
                    break
            else:
                if item in _ALLOWED:
                    period.conditions.append(item)
    return list(periods.values()), units


def _unit_kind(text: str, mention: Mention) -> str | None:
    after = text[mention.end :]
    if _TEMPERATURE_UNIT.match(after):
        return "temperature"
    if _PERCENT_UNIT.match(after):
        return "percent"
    if _WIND_UNIT.match(after):
        return "wind"
    return None


def _wrong_units(reply: str, units: set[str]) -> bool:
    """Whether the reply names a temperature or wind unit the facts do not use."""
    said_f = re.search(r"°\s*f\b|fahrenheit", reply)
    said_c = re.search(r"°\s*c\b|celsius", reply)
    if ("°C" in units and said_f) or ("°F" in units and said_c):
        return True
    said_mph = re.search(r"\bmph\b|miles?\s+(?:per|an)\s+hour", reply)
    said_kmh = re.search(r"km/h|\bkph\b|kilomet(?:er|re)s?\s+(?:per|an)\s+hour", reply)
    return bool(("km/h" in units and said_mph) or ("mph" in units and said_kmh))


def _mislabelled(reply: str, periods: list[_Period]) -> bool:
    """Tell whether a number is said to be what it is not in the facts.

    A high, a low, degrees, a percentage or a wind: "a low of 13 km/h" (13 is
    the wind), "a high of 66%".
    """
    now = next((p for p in periods if p.label == "now"), None)
    current = {now.temperature} if now is not None and now.temperature else set()
    highs = {p.high for p in periods if p.high is not None} | current
    lows = {p.low for p in periods if p.low is not None} | current
    temperatures = highs | lows | {p.feels for p in periods if p.feels is not None}
    percents = {p.chance for p in periods if p.chance is not None} | {
        p.humidity for p in periods if p.humidity is not None
    }
    winds = {p.wind for p in periods if p.wind is not None}
    for mention in numbers(reply):
        before = reply[max(mention.start - 30, 0) : mention.start]
        kind = _unit_kind(reply, mention)
        if _HIGH_LABEL.search(before) or _LOW_LABEL.search(before):
            allowed = highs if _HIGH_LABEL.search(before) else lows
            wrong = kind in ("wind", "percent") or mention.value not in allowed
        elif kind == "wind" or (kind is None and _WIND_LABEL.search(before)):
            wrong = mention.value not in winds
        elif kind == "temperature":
            wrong = mention.value not in temperatures
        elif kind == "percent":
            wrong = mention.value not in percents
        else:
            continue
        if wrong:
            return True
    return False


def _weather(question: str, reply: str, facts: str) -> list[str]:
    periods, units = _weather_periods(facts)
    if not periods:
        return []
    failed = []
    if _mislabelled(reply, periods):
        failed.append("weather_figure_mislabelled")
    if _wrong_units(reply, units):
        failed.append("weather_unit")
    if _wrong_days(reply, facts, periods):
        failed.append("weather_day")
    said = numbers(reply)
    now = next((p for p in periods if p.label == "now" and p.temperature), None)
    days = [p for p in periods if p.label != "now"] or periods
    lows = [p.low for p in periods if p.low is not None]
    temperatures = [p.temperature for p in periods if p.temperature is not None]
    coldest = min(lows + temperatures, default=None)
    freezing = 32.0 if "°F" in units else 0.0
    cold = _FREEZING.search(reply)
    if cold and not _negated(reply, cold.start()) and (coldest or 99) > freezing:
        failed.append("weather_freezing")  # "below zero" with a low of 6 °C
    # What the question asks for.
    asks_rain = bool(_ASK_RAIN.search(question))
    asks_wind = bool(_ASK_WIND.search(question))
    asks_humidity = bool(_ASK_HUMIDITY.search(question)) and any(
        p.humidity is not None for p in periods
    )
    asks_temperature = bool(_ASK_TEMPERATURE.search(question))
    plain = not (asks_rain or asks_wind or asks_humidity or asks_temperature)
    if asks_temperature or plain:
        if re.search(r"\bhighs?\b", question):
            wanted = [p.high for p in days if p.high is not None]
        elif re.search(r"\b(?:lows?|drop\w*)\b", question):
            wanted = [p.low for p in days if p.low is not None]
        elif now is not None and now.temperature is not None:
            wanted = [now.temperature]
        else:
            wanted = [v for p in days for v in (p.high, p.low) if v is not None]
        if wanted and not any(_says(said, v) for v in wanted):
            failed.append("weather_temperature")
    winds = [p.wind for p in periods if p.wind is not None]
    if asks_wind and winds and not any(_says(said, v) for v in winds):
        failed.append("weather_wind")
    if asks_humidity:
        wanted = [p.humidity for p in periods if p.humidity is not None]
        if not any(_says(said, v) for v in wanted):
            failed.append("weather_humidity")
    chances = [p.chance for p in days if p.chance is not None]
    chance_said = any(_says(said, v) for v in chances)
    if asks_rain and chances and not chance_said:
        failed.append("weather_precipitation_chance")
    failed.extend(
        _weather_conditions(
            question, reply, periods, needs=plain or (asks_rain and not chance_said)
        )
    )
    return failed


def _wrong_days(reply: str, facts: str, periods: list[_Period]) -> bool:
    """Whether the reply names a day the facts are not about.

    "tomorrow" needs a line that is not now, today or tonight; "today" and
    "tonight" a line that is not tomorrow; weekdays and dates must be the lines'.
    """
    labels = {p.label for p in periods}
    if re.search(r"\btomorrow\b", reply) and labels <= {"now", "today", "tonight"}:
        return True
    if re.search(r"\b(?:today|tonight)\b", reply) and labels <= {"tomorrow"}:
        return True
    return _wrong_dates(reply, facts)


def _weather_conditions(
    question: str,
    reply: str,
    periods: list[_Period],
    *,
    needs: bool,
) -> list[str]:
    """Conditions named, denied or answered yes/no must agree with the facts.

    With `needs`, the reply must say something of the condition.
    """
    stated = {c for p in periods for c in p.conditions}
    allowed = set().union(*(_ALLOWED[c] for c in stated)) if stated else set()
    present = {
        family
        for c in stated
        for family in _ALLOWED[c]
        if family != "cloud" or c in ("cloudy", "partly cloudy", "windy and cloudy")
    }
    wet = bool(present & _PRECIPITATION) or any((p.chance or 0) >= 50 for p in periods)
    named = False
    for family, pattern in _CONDITIONS.items():
        for match in pattern.finditer(reply):
            if _CHANCE_OF.search(reply[max(match.start() - 30, 0) : match.start()]):
                named = True  # "a 10% chance of rain": the chance, not a forecast
                continue
            named = True
            if _negated(reply, match.start()):
                if family in present:
                    return ["weather_condition"]
            elif stated and family not in allowed:
                return ["weather_condition"]
    for match in _DRY.finditer(reply):
        named = True
        if wet != _negated(reply, match.start()):
            return ["weather_condition"]
    for pattern, needs_wet in ((_LIKELY_WET, True), (_LIKELY_DRY, False)):
        likely = pattern.search(reply)
        if likely and not _negated(reply, likely.start()):
            named = True
            if wet != needs_wet:
                return ["weather_condition"]  # "a high chance of rain" at 0%
    heavy = _HEAVY.search(reply)
    if heavy and not _negated(reply, heavy.start()) and not stated & _HEAVY_FACTS:
        return ["weather_condition"]  # "heavy rain" when the facts say rain
    asked = [f for f, pattern in _ASK_CONDITION.items() if pattern.search(question)]
    if asked and stated:
        family = asked[0]
        has = family in present or (family == "rain" and wet)
        if _YES.search(reply) and not has:
            return ["weather_condition"]
        if _NO.search(reply) and has:
            return ["weather_condition"]
        if _YES.search(reply) or _NO.search(reply):
            named = True
    if needs and stated and not named:
        return ["weather_condition_missing"]
    return []


# --- sports -----------------------------------------------------------------------

_LIVE = re.compile(r"^Live: (.+) (\d+), (.+) (\d+) \((.*)\)\.$")
_FINAL = re.compile(
    r"^Final, (\w+), (\w+) (\d+) at \d+:\d+ [AP]M: (.+) (\d+), (.+) (\d+)\."
    r"(?: The (.+) (won|lost)\.)?$"
)
_NEXT = re.compile(
    r"^Next game: (\w+), (\w+) (\d+) at [^,]*, (?:at home against|away at) (.+)\.$"
)
_PRE = re.compile(r"^(.+) at (.+), (\w+), (\w+) (\d+) at .*\.$")
_ASK_NEXT = re.compile(
    r"\b(?:next|when|when's|what time|schedule|kick ?off|tip[- ]?off|start\w*|"
    r"channel|tv|on tonight|on today|playing|who do .+ play|play (?:on|today|"
    r"tonight|tomorrow))\b"
)
_WON = re.compile(r"\b(?:won|wins|beat|beats|victory|victorious|defeated)\b")
_LOST = re.compile(r"\b(?:lost|loses|defeat|fell|beaten)\b")
_LEADING = re.compile(r"\b(?:leading|leads|ahead|winning)\b")
_TRAILING = re.compile(r"\b(?:trailing|trails|behind|losing)\b")
# Team names that are ordinary words in a sentence about a game.
_ORDINARY_NAMES = frozenset(
    "heat magic thunder jazz wild stars union crew sun storm sky dream liberty "
    "mercury aces wings fever sparks lightning os o's a's blues galaxy revolution "
    "dynamo villa roma up reds twins kings giants rangers royals angels pirates "
    "cardinals suns nets bulls bucks rockets hawks".split()
)
# First words of places that are not the place alone ("new" of New York).
_PLACE_PREFIXES = frozenset("new san los las st. saint santa fort port el la".split())
_LEAGUE_TITLES = frozenset(key.upper() for key in LEAGUES)


@dataclass(frozen=True, slots=True)
class _Game:
    """A game line of the sports facts."""

    teams: tuple[str, str]
    scores: tuple[float, float] | None = None
    live: bool = False
    day: str = ""
    month: str = ""
    date: str = ""
    verdict: tuple[str, str] | None = None  # ("Ravens", "won")
    next_game: bool = False


def _sports_games(facts: str) -> tuple[str, list[_Game]]:
    """Return the title team ("" for a league scoreboard) and the game lines."""
    lines = [line.strip() for line in facts.splitlines() if line.strip()]
    title = ""
    if lines and (match := re.match(r"^(.+) \((\w+)\):$", lines[0])):
        title = match.group(1)
    games = []
    for line in lines[1:]:
        if match := _LIVE.match(line):
            away, a, home, h, _ = match.groups()
            games.append(_Game((away, home), (float(a), float(h)), live=True))
        elif match := _FINAL.match(line):
            day, month, date, away, a, home, h, team, verdict = match.groups()
            games.append(
                _Game(
                    (away, home),
                    (float(a), float(h)),
                    day=day,
                    month=month,
                    date=date,
                    verdict=(team, verdict) if team else None,
                )
            )
        elif match := _NEXT.match(line):
            day, month, date, other = match.groups()
            games.append(
                _Game((title, other), day=day, month=month, date=date, next_game=True)
            )
        elif match := _PRE.match(line):
            away, home, day, month, date = match.groups()
            games.append(_Game((away, home), day=day, month=month, date=date))
    return title, games


def _names_of(team: str) -> set[str]:
    """Return the names a reply may call `team` ("Toronto Blue Jays") by.

    Its full name, its known nicknames ("blue jays", "jays"), its last word and
    its place ("toronto"; "atlanta united" and "atlanta" for Atlanta United FC).
    """
    words = team.lower().split()
    if not words:
        return set()
    full = " ".join(words)
    names = {full, words[-1]}
    names |= {
        name
        for name in TEAM_LEAGUES
        if full.endswith(f" {name}") or full.endswith(f" {ALIASES.get(name, name)}")
    }
    if len(words) > 1:
        names.add(" ".join(words[:-1]))
        if len(words) > 2 and words[0] not in _PLACE_PREFIXES:
            names.add(words[0])
    return names


def _mentions_team(reply: str, team: str) -> list[int]:
    """Where `reply` names `team` (start offsets)."""
    return [
        m.start()
        for name in _names_of(team)
        for m in re.finditer(rf"\b{re.escape(name)}\b", reply)
    ]


def _said_day(reply: str, game: _Game) -> bool:
    weekday = bool(game.day) and game.day.lower() in reply
    date = bool(game.month) and bool(
        re.search(rf"\b{game.month.lower()}\s+{game.date}(?:st|nd|rd|th)?\b", reply)
    )
    return weekday or date


def _sports(question: str, reply: str, facts: str) -> list[str]:
    title, games = _sports_games(facts)
    if not games:
        return []
    failed = []
    known = set().union(*(_names_of(t) for g in games for t in g.teams if t))
    known |= _names_of(title)
    for name in TEAM_LEAGUES:
        canonical = ALIASES.get(name, name)
        if name in _ORDINARY_NAMES or name in known or canonical in known:
            continue
        if re.search(rf"\b{re.escape(name)}\b", reply):
            failed.append("sports_team")
            break
    if _wrong_dates(reply, facts):
        failed.append("sports_day")
    said = numbers(reply)
    scored = [g for g in games if g.scores is not None]
    upcoming = [g for g in games if g.scores is None]
    wants_next = bool(_ASK_NEXT.search(question)) and bool(upcoming)
    if any(_wrong_score(reply, g) for g in scored):
        failed.append("sports_score")  # "Ravens 3" when the Ravens have 24
    if title and not wants_next and scored:
        game = scored[0]
        assert game.scores is not None
        if not all(_says(said, s) for s in game.scores):
            failed.append("sports_score")
        failed.extend(_verdict(reply, title, game))
    elif title and upcoming:
        game = upcoming[0]
        other = next(t for t in game.teams if t != title) if title in game.teams else ""
        if not _said_day(reply, game) or (other and not _mentions_team(reply, other)):
            failed.append("sports_next_game")
    elif not title:  # a league's scoreboard: one game at least, as it stands
        if scored:
            if not any(
                g.scores is not None and all(_says(said, s) for s in g.scores)
                for g in scored
            ):
                failed.append("sports_score")
        elif not any(_mentions_team(reply, t) for g in upcoming for t in g.teams):
            failed.append("sports_next_game")
    return failed


def _wrong_score(reply: str, game: _Game) -> bool:
    """Tell whether a team's name is followed by a score that is not its own."""
    assert game.scores is not None
    return any(
        abs(float(match.group(1)) - score) > 0.01
        for team, score in zip(game.teams, game.scores, strict=True)
        for name in _names_of(team)
        for match in re.finditer(
            rf"\b{re.escape(name)}\b[\s,:]*(\d+)\b(?!:|\s*(?:to|-|\u2013)\s*\d)", reply
        )
    )


def _verdict(reply: str, title: str, game: _Game) -> list[str]:
    """Check that won, lost or leading, said of a team, is what the facts say."""
    assert game.scores is not None
    ours = 0 if game.teams[0] == title else 1
    margin = game.scores[ours] - game.scores[1 - ours]
    other = game.teams[1 - ours]
    for pattern, sign, final in (
        (_WON, 1, True),
        (_LOST, -1, True),
        (_LEADING, 1, False),
        (_TRAILING, -1, False),
    ):
        for match in pattern.finditer(reply):
            if _negated(reply, match.start()):
                continue
            start = _sentence_start(reply, match.start())
            ours_at = [
                p for p in _mentions_team(reply, title) if start <= p < match.start()
            ]
            theirs_at = [
                p for p in _mentions_team(reply, other) if start <= p < match.start()
            ]
            subject_is_other = bool(theirs_at) and (
                not ours_at or max(theirs_at) > max(ours_at)
            )
            said = -sign if subject_is_other else sign
            if final and game.live:
                return ["sports_result"]  # "won" a game still being played
            if margin == 0 or (said > 0) != (margin > 0):
                return ["sports_result"]
    return []


# --- airport ----------------------------------------------------------------------

_ASK_AIRPORT_WEATHER = re.compile(
    r"\b(?:weather|wind\w*|visibility|ceiling|fog\w*|flight category|vfr|ifr|"
    r"conditions?|temperature|cloud\w*|rain\w*|snow\w*|storm\w*)\b"
)
_ASK_STATUS = re.compile(
    r"\b(?:delay\w*|ground|stop\w*|clos\w*|open|on time|flights?|flying|"
    r"status|backed up|busy|running|operating|departures?|arrivals?|cancel\w*|"
    r"taking off|wait\w*|how'?s|how is|how are|looking)\b"
)
_CLAIM_DELAY = re.compile(r"\b(?:delay\w*|behind schedule|cancel\w*)\b")
_CLAIM_STOP = re.compile(r"\bground\s*stops?\b|\bgrounded\b")
_CLAIM_CLOSED = re.compile(r"\b(?:clos\w*|notam)\b")
_CLAIM_NORMAL = re.compile(
    r"\b(?:on time|on schedule|smoothly|normally|as usual|all clear|normal)\b"
)
_TROUBLE = re.compile(r"\b(?:problems?|issues?|disruptions?|trouble)\b")
_COMPASS = re.compile(
    r"\bwinds?\s+(?:from\s+(?:the\s+)?)?((?:north|south|east|west|[nesw])"
    r"(?:[\s-]?(?:north|south|east|west|[nesw])){0,2})\b"
)
_POINTS = {"north": "n", "south": "s", "east": "e", "west": "w"}


def _directions(text: str) -> set[str]:
    """Wind directions named in lower-case `text` as compass codes ("wsw")."""
    return {
        "".join(
            _POINTS.get(w, w) for w in re.findall(r"north|south|east|west|[nesw]", m)
        )
        for m in _COMPASS.findall(text)
    }


_FLIGHT_CATEGORY = re.compile(r"\b(?:(low|marginal)\s+)?(vfr|ifr|lifr|mvfr)\b")


def _categories(text: str) -> set[str]:
    out = set()
    for match in _FLIGHT_CATEGORY.finditer(text.lower()):
        modifier, name = match.groups()
        if modifier == "marginal" and name == "vfr":
            name = "mvfr"
        elif modifier == "low" and name == "ifr":
            name = "lifr"
        out.add(name)
    return out


def _airport_claims(reply: str) -> tuple[set[str], set[str]]:
    """Return what the reply says of delays, stops and closures: (said, denied).

    "normal" stands for "on time", "operating normally" and the like.
    """
    said: set[str] = set()
    denied: set[str] = set()
    for kind, pattern in (
        ("delay", _CLAIM_DELAY),
        ("stop", _CLAIM_STOP),
        ("closed", _CLAIM_CLOSED),
        ("normal", _CLAIM_NORMAL),
    ):
        for match in pattern.finditer(reply):
            (denied if _negated(reply, match.start()) else said).add(kind)
    for match in _TROUBLE.finditer(reply):
        if _negated(reply, match.start()):  # "no problems" is "normal"
            said.add("normal")
    return said, denied


def _wrong_yes_no(question: str, reply: str, status: set[str]) -> bool:
    """Tell whether a "yes" or "no" says the opposite of the FAA status.

    To "is there a ground stop", "are there delays", "is it on time / open".
    """
    yes, no = bool(_YES.search(reply)), bool(_NO.search(reply))
    if not (yes or no):
        return False
    if "ground stop" in question:
        has = "stop" in status
    elif re.search(r"\b(?:delay\w*|backed up|late)\b", question):
        has = "delay" in status
    elif re.search(r"\b(?:on time|open|normal\w*)\b", question):
        has = not status
    else:
        return False
    return yes != has


def _airport(question: str, reply: str, facts: str) -> list[str]:
    lowered = facts.lower()
    status = set()
    if "ground delay program" in lowered or "delays of" in lowered:
        status.add("delay")
    if "ground stop until" in lowered:
        status.update(("stop", "delay"))  # a ground stop delays every departure
    if "closure notice" in lowered:
        status.add("closed")
    known = bool(status) or "no delays or ground stops reported" in lowered
    said, denied = _airport_claims(reply)
    failed = []
    if re.search(r"\breported by (?!the faa\b|faa\b)", reply):
        failed.append("airport_source")  # "reported by the UK Airports Authority"
    if not known:  # the FAA could not be reached: nothing may be said either way
        if said | denied:
            failed.append("airport_status")
    elif (
        (said - {"normal"}) - status
        or denied & status
        or ("normal" in said and status)
        or ("normal" in denied and not status)
    ):
        failed.append("airport_status")
    if (
        known
        and "airport_status" not in failed
        and _wrong_yes_no(question, reply, status)
    ):
        failed.append("airport_status")  # "No: ground delays of 31 to 45 minutes"
    asks_weather = bool(_ASK_AIRPORT_WEATHER.search(question))
    asks_status = bool(_ASK_STATUS.search(question)) or not asks_weather
    if asks_status and known and not failed:
        if status and not said & status:
            failed.append("airport_status")  # the delay is not mentioned
        if not status and not (denied or "normal" in said):
            failed.append("airport_status")  # "no delays" is not said
    categories = _categories(reply)
    if categories and not categories <= _categories(facts):
        failed.append("airport_flight_category")
    if not _directions(reply) <= _directions(lowered):
        failed.append("airport_wind")  # "wind NW" when the METAR says WSW
    if asks_weather and "weather at" in lowered:
        wind = re.search(r"wind (?:[a-z]+ at )?(\d+) knots", facts)
        has_wind = wind is not None and _says(numbers(reply), float(wind.group(1)))
        if re.search(r"\bwind", question):
            if wind is not None and not has_wind:
                failed.append("airport_wind")
        elif not (categories or has_wind):
            failed.append("airport_weather")
    return failed


# --- the check --------------------------------------------------------------------

_TITLE = re.compile(r"^(?:Weather for .+|.+ \((\w+)\)|\w+ scoreboard):$")


def _blocks(facts: str) -> list[tuple[str, str]]:
    """Split a facts block into (kind, text) fact blocks by their title lines.

    Lines that belong to no source block ("Home Assistant did this: ...", "Also
    tell the user: ...") are left out.
    """
    blocks: list[tuple[str, list[str]]] = []
    for line in facts.splitlines():
        if match := _TITLE.match(line.strip()):
            if line.startswith("Weather for "):
                kind = Category.WEATHER.value
            elif match.group(1) is None or match.group(1) in _LEAGUE_TITLES:
                kind = Category.SPORTS.value
            else:
                kind = Category.AIRPORT.value
            blocks.append((kind, [line]))
        elif blocks and not line.startswith(
            ("Home Assistant did this:", "Also tell the user:")
        ):
            blocks[-1][1].append(line)
    return [(kind, "\n".join(lines)) for kind, lines in blocks]


def fact_kinds(facts: str) -> list[str]:
    """Return the kind of each source block in `facts`, in order.

    Kinds are route categories: weather, sports (a team's block or a league's
    scoreboard), airport; lines of no source block are skipped.
    """
    return [kind for kind, _text in _blocks(facts)]


_CHECKS = {
    Category.WEATHER.value: _weather,
    Category.SPORTS.value: _sports,
    Category.AIRPORT.value: _airport,
}


# Words of a question that open a sentence of any reply ("The Ravens won"), never
# names: not a sign that the reply is about something else.
_FUNCTION_WORDS = frozenset(
    "the a an and or but yes no not is are was were will would it its they their "
    "there this that what when where who how did do does any some in at on for to "
    "of with from by be".split()
)


def _foreign(question: str, reply: str, facts: str) -> bool:
    """Tell whether the reply names what the facts do not: a name from the question.

    A small model repeats the place or airport of the question ("In Portland:")
    over facts about another one; and codes (three capitals or more: "JFKFK",
    "USA") that are not in the facts. `question` is lower case, `reply` as said.
    """
    known = facts.lower()
    asked = set(re.findall(r"[a-z]+", question)) - _FUNCTION_WORDS
    for word in re.findall(r"\b[A-Z][a-z]+\b", reply):
        if word.lower() in asked and word.lower() not in known:
            return True
    codes = set(re.findall(r"[A-Z]{3,}", facts))
    return any(code not in codes for code in re.findall(r"[A-Z]{3,}", reply))


def incomplete(category: str, question: str, reply: str, facts: str) -> list[str]:
    """Return the names of the checks `reply` fails ([] when it carries the facts).

    `category` is the turn's route (`TurnNote.category`: weather, sports, airport,
    multi), `question` the user's text, `facts` the facts block the reply was
    worded from. An empty reply fails ("empty"), and so does one that refuses or
    talks about being an AI ("refusal"), whatever it says after. A compound
    request's fact blocks are each checked against the part of the question of
    their kind (the whole question when the parts cannot be told apart).

    Names: `weather_temperature`, `weather_wind`, `weather_humidity`,
    `weather_precipitation_chance`, `weather_condition`,
    `weather_condition_missing`, `weather_figure_mislabelled`, `weather_unit`,
    `weather_day`, `weather_freezing`, `sports_score`, `sports_next_game`,
    `sports_team`, `sports_result`, `sports_day`, `airport_status`,
    `airport_weather`, `airport_wind`, `airport_flight_category`.
    """
    text = " ".join(reply.lower().split())
    if not text:
        return ["empty"]
    if _REFUSAL.search(text):
        return ["refusal"]
    asked = " ".join(question.lower().split())
    failed = ["not_in_facts"] if _foreign(asked, " ".join(reply.split()), facts) else []
    if category in _CHECKS:
        return failed + _CHECKS[category](asked, text, facts)
    if category != Category.MULTI.value:
        return failed
    parts: dict[str, list[str]] = {}
    for part in route(question).parts:
        parts.setdefault(part.category.value, []).append(part.text)
    seen: dict[str, int] = {}
    for kind, block in _blocks(facts):
        index = seen.get(kind, 0)
        seen[kind] = index + 1
        texts = parts.get(kind, [])
        asked_here = texts[index] if index < len(texts) else asked
        failed.extend(
            f for f in _CHECKS[kind](asked_here, text, block) if f not in failed
        )
    return failed


# --- what is spoken ---------------------------------------------------------------

# Tokens a fact reply may take, by kind: what carries the facts in a sentence or
# two (bench.answer_quality: the replies that pass are under these), so a small
# model's ramble is cut before it invents; the agent's own max_tokens still caps.
REPLY_TOKENS: dict[str, int] = {
    Category.WEATHER.value: 64,
    Category.SPORTS.value: 48,
    Category.AIRPORT.value: 64,
    Category.MULTI.value: 128,
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True, slots=True)
class Checked:
    """A reply after both checks: the part to speak, or why none can be spoken.

    `answer` is the longest run of the reply's whole sentences, from its start,
    that passes the grounding and completeness checks ("" when none does);
    `failed` names the checks the whole reply fails (numbers not in the facts
    as "ungrounded:<number>").
    """

    answer: str
    failed: list[str]


def check(category: str, question: str, reply: str, facts: str) -> Checked:
    """Check `reply` against `facts` for `question`; see `Checked`.

    A reply cut off by the token cap ends in half a sentence, and a small model
    often says the facts first and then invents: the sentences before the first
    bad one are spoken when they carry the facts on their own.
    """
    failed = [f"ungrounded:{n}" for n in ungrounded(reply, facts)]
    failed += incomplete(category, question, reply, facts)
    if not failed and re.search(r"[.!?]\W*$", reply):
        return Checked(reply, [])
    sentences = _SENTENCE_END.split(reply.strip())
    for end in range(len(sentences) - 1, 0, -1):
        answer = " ".join(sentences[:end])
        if not ungrounded(answer, facts) and not incomplete(
            category, question, answer, facts
        ):
            return Checked(answer, [])
    if not failed:  # one unfinished sentence that carries the facts
        return Checked(reply, [])
    return Checked("", failed)

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
  multi     several requests joined by "and" / "then" / a comma: `parts`, in order

The rules are few and work on classes of words rather than on sentences: words a
speech-to-text engine gets wrong are mended first ("b w i", "the whether"); then,
in order, a greeting made only of greeting words, a clock question, an airport
named next to airport words, a command (a device verb, or a verb that needs a
device noun), a team next to game words, a knowledge question ("how do hurricanes
form", "what is a ground stop"), a question about a device or room, a team or
league alone, and the weather: forecast words, or a temperature word with the
weather's "it", a time or a place, or the clothes one needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
import re

from .sources import airports
from .sources.teams import ALIASES, COMMON_WORDS, LEAGUE_WORDS, TEAM_LEAGUES


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


def _words(*groups: str) -> str:
    """Return a regex alternation of the space-separated words ("_": a space)."""
    return "|".join(w.replace("_", " ") for g in groups for w in g.split())


WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_WEEKDAY = "|".join(WEEKDAYS)

# --- Speech-to-text: spelt codes ("b w i", "j.f.k."), "whether" for weather. ---
_CLEAN = re.compile(r"[^\w\s',.-]+")
_DOTTED = re.compile(r"\b((?:[a-z]\.){1,3}[a-z])\.?(?!\w)")
_SPELT = re.compile(r"(?<![\w'])[a-z](?: [a-z]){1,3}(?![\w'])")
_WHETHER = re.compile(
    r"\b(the|today's|tomorrow's|tonight's|weekend's|local) whether\b"
    r"|\bwhether(?=(?: (?:like|forecast|report|today|tomorrow|tonight|this|for|in|"
    r"outside|look|looking|going|gonna))|$)"
)


def _join_letters(match: re.Match[str]) -> str:
    letters = match.group(0).split()
    if letters[0] in ("a", "i") and len(letters) > 2:  # "a b w i": the article stays
        return f"{letters[0]} {''.join(letters[1:])}"
    return "".join(letters)


def normalize(text: str) -> str:
    """Lower-case `text`, unify apostrophes, drop punctuation but ' , . and -.

    Also mends what speech-to-text makes of spoken letters and "weather": "b w i"
    and "b.w.i." become "bwi", "the whether" "the weather".
    """
    text = text.lower().replace("\u2019", "'")
    text = " ".join(_CLEAN.sub(" ", text).split()).strip(" ,.?!")
    text = _DOTTED.sub(lambda m: m.group(1).replace(".", ""), text)
    text = _SPELT.sub(_join_letters, text)
    return _WHETHER.sub(
        lambda m: f"{m.group(1)} weather" if m.group(1) else "weather", text
    )


# --- Greetings: every word a greeting word, one of them a hello or a thanks. ---
_HELLO_WORDS = frozenset(
    _words("hi hello hey hiya heya howdy yo greetings sup").split("|")
)
_THANKS_WORDS = frozenset(
    _words("thanks thank thankyou thx cheers ta appreciate appreciated").split("|")
)
_PHATIC = (
    _HELLO_WORDS
    | _THANKS_WORDS
    | frozenset(
        _words(
            "you so very much a lot great perfect okay ok awesome cool nice lovely",
            "brilliant excellent wonderful fantastic alright right that that's",
            "thats it all for now mate there everyone everybody buddy friend athena",
            "jarvis how are is it's going doing today what's whats up how's oh well",
            "really just again good morning afternoon evening night i will be you're",
            "things kindly many on",
        ).split("|")
    )
)
_PHATIC_PHRASE = re.compile(
    r"\bhow(?:'?s| is) it going\b|\bhow are (?:you|things)\b|\bhow(?: are)? you doing\b"
    r"|\bhow'?s (?:things|everything)\b|\bwhat'?s (?:up|going on)\b"
    r"|\bthat'?s (?:all|it)\b|\bthat will be all\b"
    r"|\bgood (?:morning|afternoon|evening|night)\b|^(?:morning|afternoon|evening)\b"
)
_GREETING_REPLY = (
    ("morning", re.compile(r"^(?:good )?morning\b")),
    ("afternoon", re.compile(r"^(?:good )?afternoon\b")),
    ("evening", re.compile(r"^(?:good )?evening\b|^good night\b")),
)


def _greeting(words: str) -> str | None:
    """Return the local reply of a greeting or a thanks, or None for anything else."""
    tokens = words.replace(",", " ").split()
    if not tokens or not all(t in _PHATIC for t in tokens):
        return None
    thanks = any(t in _THANKS_WORDS for t in tokens) or "that" in words
    if not (thanks or _PHATIC_PHRASE.search(words) or _HELLO_WORDS & set(tokens)):
        return None
    for reply, pattern in _GREETING_REPLY:
        if pattern.match(words):
            return reply
    return "thanks" if thanks else "hello"


# What a request may open or close with that says nothing of where it goes.
_LEAD = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|yo|so|um|uh|oh|well|alright|and|but|also|now|"
    r"good (?:morning|afternoon|evening))\b[ ,]+)*"
    r"(?:(?:athena|jarvis)\b[ ,]+)?(?:please\b[ ,]+)?"
)
_TAIL = re.compile(r"(?:[ ,]+(?:please|thanks|thank you|athena|jarvis|then))+$")

# --- The clock: the whole request is "what time is it" or "what's the date". ---
_ASK = (
    r"(?:(?:can|could|would) you (?:please )?(?:tell|give) me |(?:do|would) you "
    r"(?:happen to )?(?:know|have) |tell me |give me |(?:have you |you )?got |"
    r"(?:and|what about|how about) )?"
)
_TIME = re.compile(
    rf"^{_ASK}(?:(?:what(?:'?s| is) )?(?:the )?(?:current |exact )?time"
    r"(?: is it| it is)?|what time (?:is it|it is|do you have|have you got|you got))"
    r"(?: (?:right )?now)?$|^time check$"
)
_DATE = re.compile(
    rf"^{_ASK}(?:(?:what(?:'?s| is) )?(?:today'?s |the )?(?:current )?date(?: today)?"
    r"|what(?:'?s| is) the (?:day|year|month)(?: today)?"
    r"|(?:what|which) (?:day|date|year|month)(?: of the week)? is (?:it|today|this)"
    r"(?: today)?"
    r"|what day is today|what(?:'?s| is) today"
    rf"|(?:is )?(?:it|today) (?:{_WEEKDAY})(?: today)?)$"
)

# --- Word classes of the home. ---
_DEVICE_WORDS = _words(
    "lights? lamps? bulbs? lighting doors? windows? locks? locked unlocked garage",
    "gates? fans? heater heating heat(?!_wave|_index) thermostat ac a/c aircon",
    "air_con(?:ditioning|ditioner)? hvac furnace boiler fireplace blinds?",
    "curtains? shades? shutters? awnings? covers? switch(?:es)? plugs? outlets?",
    "sockets? tv television speakers? stereo soundbar radio music songs? track",
    "playlist podcast volume channel vacuum roomba robot mower mowing lawn",
    "sprinklers? irrigation valves? alarm security_system siren oven stove",
    "dishwasher washer washing_machine dryer fridge refrigerator freezer kettle",
    "coffee_(?:maker|machine) microwave cameras? doorbell sensors? humidifier",
    "dehumidifier purifier timers? (?:shopping|grocery|to-?do)_list scene script",
    "automation hot_tub pool_pump battery batteries",
)
_ROOM_WORDS = _words(
    "kitchen living_room bedroom bathroom office basement hallway garage attic",
    "dining_room nursery den porch patio deck backyard yard driveway laundry_room",
    "family_room guest_room playroom upstairs downstairs inside indoors indoor",
    "in_here here house",
)
_DEVICE = re.compile(rf"\b(?:{_DEVICE_WORDS})\b")
_ROOM = re.compile(rf"\b(?:{_ROOM_WORDS})\b")
# A device named as one of the home's ("the kitchen light", "my timer", "which
# lights"), not a kind of thing ("a smart plug", "the speed of light").
_HOME_DEVICE = re.compile(
    r"\b(?:the|my|our|any|all|every|each|which|what|both|these|those|no|"
    rf"{_ROOM_WORDS})\s+(?:(?!of\b)[\w'-]+\s+){{0,3}}?(?:{_DEVICE_WORDS})\b"
)
_INDOOR = re.compile(rf"{_DEVICE.pattern}|{_ROOM.pattern}")
_CLIMATE = re.compile(
    r"\b(?:temperature|temp|degrees|warm|hot|cold|cool|chilly|humid|humidity)\b"
)
_PRESENCE = re.compile(r"\b(?:anyone|anybody|someone|somebody|motion|occupied)\b")
_DEVICE_STATE = re.compile(
    r"\b(?:on|off|open|closed|shut|locked|unlocked|running|playing|paused|idle|"
    r"charging|docked|armed|disarmed)\b"
)

# --- Commands. ---
_POLITE = (
    r"(?:(?:please|kindly|can you|could you|would you|will you|go ahead and|"
    r"i need you to|i want you to|i'd like you to|you can|let's)\s+)*"
)
# Verbs that command a device whatever follows them.
_DEVICE_VERB = re.compile(
    rf"^{_POLITE}(?:turn|switch|dim|brighten|lock|unlock|arm|disarm|toggle|mute|"
    r"unmute|pause|resume|unpause|activate|deactivate|open|close|shut|flip)\b"
)
# Verbs that command a device only when one is named, a setting is given, or the
# object is one of the home's ("start the dishwasher", not "make a packing list").
_OTHER_VERB = re.compile(
    rf"^{_POLITE}(?:set|make|change|put|run|start|stop|add|remove|cancel|send|raise|"
    r"lower|increase|decrease|enable|disable|kill|crank|bump|boost|restart|reset|"
    r"skip|adjust|heat|cool|warm|water|mow|vacuum|clean|return|dock|cut|fire up|"
    r"power|trigger|leave|keep|bring)\b(?P<rest>.*)"
)
_SETTING = re.compile(
    r"\bto (?:\d+|[a-z]+(?: [a-z]+)? (?:percent|degrees))\b|\d+ ?(?:%|percent|degrees)"
    r"|\b(?:percent|degrees)\b|\b(?:up|down|on|off|higher|lower|brighter|dimmer|"
    r"warmer|cooler|louder|quieter)$"
)
_DEFINITE_OBJECT = re.compile(
    r"^(?: (?:up|down|on|off|back|out))? (?:the|my|our|all|everything|both|it|this|"
    r"that)\b(?!.*\b(?:for|with) (?:me|us)\b)"
)
_PLAY = re.compile(rf"^{_POLITE}play\b(?P<rest>.*)")
_GAME = re.compile(
    r"\b(?:a game|games|questions|trivia|quiz|with (?:me|us)|hide and seek)\b"
)
_NOT_A_COMMAND = (
    r"(?!(?:what|what's|who|who's|why|how|how's|when|where|which|is|are|was|were|"
    r"do|does|did|can|could|will|would|should|i|i'm|it's|let's|tell|show)\b)"
)
# Terse commands HA's intents understand: "bedroom fan off", "music stop", "next".
_TERSE_CONTROL = re.compile(
    rf"^{_NOT_A_COMMAND}(?:[\w'-]+ ){{1,5}}(?:on|off)$"
    # "lights on in the office": a device, on or off, then where.
    rf"|^{_NOT_A_COMMAND}(?:the |all (?:the )?)?(?:[\w'-]+ ){{0,3}}"
    rf"(?:{_DEVICE_WORDS}) (?:on|off) "
    r"(?:in|at|on) (?:the )?[\w' -]+$"
    r"|^(?:(?:the )?(?:music|song|track|tv|television|media|movie|video|radio|"
    r"speaker|playback|podcast|audio) )?"
    r"(?:stop|pause|resume|unpause|continue|play|next|skip|previous|mute|unmute|"
    r"louder|quieter)"
    r"(?: (?:the |this |that |my )?(?:music|song|track|it|this|that|playback|tv|"
    r"video|movie|podcast|audio|one))?$"
    r"|^(?:volume|sound) (?:up|down)$"
    # Dismissals: HA's "never mind" (it says nothing), never a model's reply.
    r"|^(?:oh |no |okay |ok )?(?:never ?mind|forget (?:it|that|about it)|"
    r"cancel(?: (?:that|it|this))?|nothing|no thanks?|don'?t worry(?: about it)?)"
    r"(?: then)?$"
)
# A wish for a device's state: "i want the porch light on".
_WISH = re.compile(
    r"^(?:i want|i'd like|i need|let's have|can (?:i|we) (?:have|get)) .+ "
    r"(?:on|off|open|closed|shut|locked|unlocked|dimmed|brighter|dimmer|warmer|"
    r"cooler)$"
)

# --- Questions about the home. ---
_QUESTION = re.compile(
    r"^(?:is|are|was|were|did|do|does|has|have|how|what|what's|whats|which|who|"
    r"where|when|tell me|check|show me|any)\b"
)
_STATE_QUESTION = re.compile(
    r"^(?:are|is) (?:there )?(?:any|anything|anyone|anybody|something|somebody|"
    r"everything|everybody|all)\b.*\b(?:on|off|open|closed|locked|unlocked|running|"
    r"home|here|in)\b"
    r"|^what(?:'s| is| are) the (?:[\w'-]+ ){1,4}(?:reading|value|level|power|"
    r"energy|consumption|usage|status|state|position)s?\b"
)
# "is the walkman playing": a short question ending in a device state.
_SHORT_STATE = re.compile(
    r"^(?:is|are) (?:the |my )?(?:[\w'-]+ ){1,3}(?:on|off|open|closed|locked|"
    r"unlocked|running|playing|paused|idle|charging|docked|armed|disarmed)$"
)

# --- Knowledge: asked about the world, not about now, here or a game. ---
_KNOWLEDGE = re.compile(
    r"^(?:how (?:does|do|can|could|would|come)\b(?! (?:the|it|those|they)\b)"
    r"|how (?:does|do) .+ work$"
    r"|what (?:is|are|was|were) (?:a|an)\b"
    r"|what(?:'s| is) the (?:difference|meaning|definition|origin|history|best|"
    r"worst)\b"
    r"|what does .+ (?:mean|stand for|do)$|what \w+ should\b"
    r"|what causes\b|why\b"
    r"|who (?:is|was|were|are|invented|wrote|sang|sings|painted|discovered|made|"
    r"created|founded|directed|built|played|starred)\b"
    r"|when (?:was|were|did)\b|where (?:is|are|was|were|did|do|does)\b"
    r"|define\b|explain\b|describe\b|write\b|compose\b|translate\b|summari[sz]e\b"
    r"|recommend\b|suggest\b|tell me (?:a|an|about|how|why|what)\b"
    r"|is it (?:safe|true|possible|bad|good|ok|okay|healthy|normal|legal|better|"
    r"worth)\b"
    r"|how many \w+ (?:are|is) (?:there )?(?:in|on) (?:a|an)\b"
    r"|what(?:'s| is| are) the \w+ of (?:a|an)\b"
    # Questions about words: "what rhymes with snow".
    r"|what rhymes with\b|how do you (?:spell|say|pronounce)\b|spell\b)"
    r"|\b(?:another word|synonym|antonym)s? for\b"
    # Elsewhere than on Earth, or what is usual rather than what is (climate).
    r"|\b(?:on|in|of) (?:mars|venus|jupiter|saturn|mercury|neptune|uranus|pluto|"
    r"the moon|the sun|space)\b"
    r"|\b(?:usually|typically|normally|on average)\b"
)
# Another time than this season: "who won the world series in 1986".
_HISTORY = re.compile(
    r"\b(?:ever|of all time|in history)\b"
    r"|\bin (?:1[0-9]\d\d|20\d\d|two thousand)\b"
    r"|\bin (?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    r"eighteen|nineteen) (?:hundred|oh|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety)\b"
    r"|\b(?:first|second|third|\w+th|\d+(?:st|nd|rd|th)) (?:super bowl|world series|"
    r"stanley cup|world cup)\b"
)
# A knowledge question about now or here is not one: "why is it so hot today".
_NOW_OR_HERE = re.compile(
    rf"\b(?:today|tonight|tomorrow|weekend|this (?:morning|afternoon|evening)|"
    rf"right now|outside|out there|in here|{_WEEKDAY})\b"
)

# --- Sports. ---
_SPORTS_CONTEXT = re.compile(
    r"\b(?:"
    + _words(
        "game games play playing played plays score scores scored scoring won win",
        "wins winning lose lost losing loss beat beating tied draw match matches",
        "fixtures? kick_?off kickoff tip_?off first_pitch puck_drop standings",
        "schedule season playoffs? postseason vs versus final record results?",
        "innings? period quarter half_?time overtime roster injur(?:y|ies) lineup",
        "odds spread points goals? touchdowns? stats on_(?:tonight|today|tv|now)",
        "(?:latest|news|updates?)_(?:on|with|about) how_about_those",
    )
    + r")\b"
    r"|\bhow (?:are|did|do|were|is) (?:the |those )?(?:[\w'.-]+ ){1,4}"
    r"(?:do|doing|look|looking|get on|getting on)\b"
)
_LEAGUE_ONLY = re.compile(
    r"\b(?:scores?|standings|results?|schedule|table|games?|highlights|fixtures)\b"
)
_EVENTS = frozenset(("super bowl", "world series", "stanley cup", "nba finals"))
# A game without a team: "what's the score of the game".
_ANY_GAME = re.compile(
    r"\b(?:score|scores|who won|who's winning|who is winning)(?: [\w'-]+){0,4} "
    r"(?:game|match)\b"
)


def _team_alternative(name: str) -> str:
    """Return a team name's regex: "ravens" also matches "raven's" (speech-to-text)."""
    if name.endswith("s") and "'" not in name and len(name) > 3:
        return re.escape(name[:-1]) + "'?s"
    return re.escape(name)


_TEAM_PATTERN = re.compile(
    r"\b("
    + "|".join(
        _team_alternative(t) for t in sorted(TEAM_LEAGUES, key=len, reverse=True)
    )
    + r")(?![\w'])"
)
_LEAGUE_PATTERN = re.compile(
    r"\b("
    + "|".join(re.escape(t) for t in sorted(LEAGUE_WORDS, key=len, reverse=True))
    + r")\b"
)


def _team_key(said: str) -> str:
    """Return the `TEAM_LEAGUES` key of a matched name ("raven's" -> "ravens")."""
    return said if said in TEAM_LEAGUES else said.replace("'", "")


def team_of(words: str, *, context: bool = True) -> str | None:
    """Return the team named in normalized `words` by its own name ("sixers": "76ers").

    A name that is also an ordinary word or a place ("heat", "liverpool") counts only
    when `context` (a sports word is said). None when no team is named.
    """
    for match in _TEAM_PATTERN.finditer(words):
        key = _team_key(match.group(1))
        if context or key not in COMMON_WORDS:
            return ALIASES.get(key, key)
    return None


def league_of(words: str) -> str | None:
    """Return the league key of a league or championship named in `words`, or None."""
    match = _LEAGUE_PATTERN.search(words)
    return LEAGUE_WORDS[match.group(1)] if match else None


def _sports(words: str, *, need_context: bool) -> Route | None:
    """Return the route of a team or league question, or None.

    With `need_context`, only when a game word is said (checked before the home and
    knowledge rules: "is the ravens game on tonight"); without, a team whose name is
    no ordinary word, a league with "scores" / "standings"..., or a championship.
    """
    context = _SPORTS_CONTEXT.search(words) is not None
    if need_context and not context:
        return None
    match = _LEAGUE_PATTERN.search(words)
    league = LEAGUE_WORDS[match.group(1)] if match else None
    event = match is not None and match.group(1) in _EVENTS
    team = team_of(words, context=context)
    if team is None and not (
        league and (context or event or _LEAGUE_ONLY.search(words))
    ):
        if need_context and _ANY_GAME.search(words):
            return Route(Category.SPORTS)
        return None
    slots = {"team": team} if team else {}
    if league:
        slots["league"] = league
    return Route(Category.SPORTS, slots=slots)


# --- Airports. ---
_AIRPORT_CONTEXT = re.compile(
    r"\b(?:"
    + _words(
        "airports? flights? flying fly_out planes? delays? delayed ground_stops?",
        "ground_delays? departures? departing arrivals? arriving runways? tarmac faa",
        "metar taf terminals? gates? security_lines? tsa wait_times? cancell?ations?",
        "cancell?ed canceled backed_up taking_off take_off landing layovers? on_time",
        "running_late",
    )
    + r")\b"
)
_HOME_AIRPORT = re.compile(
    r"\b(?:the|my|our|home|local) airport\b|\bmy (?:flight|plane)\b"
    r"|\b(?:flights?|departures?|arrivals?) (?:are |is )?(?:delayed|on time|late)\b"
    r"|\bflight delays\b"
)
# Words of flying only ("delayed" and "on time" are said of trains and parcels too).
_AVIATION = re.compile(
    r"\b(?:airports?|flights?|flying|planes?|ground (?:stops?|delays?)|departures?|"
    r"arrivals?|runways?|tarmac|faa|tsa|terminals?|layovers?)\b"
)
# An airport's own name or code after "at": "what about at dulles", "weather at bwi".
_AT_PLACE = re.compile(r"\b(?:at|out of|into) ([\w'-]+)(?: ([\w'-]+))?")


def _airport(words: str, *, knowledge: bool) -> Route | None:
    """Return the route of an airport question, or None.

    An airport named next to airport words, or its own name or code after "at";
    without a name, a question in airport words is about the home airport of the
    options, unless it asks what they mean (`knowledge`: "what is a ground stop").
    """
    index = airports.load()
    if _AIRPORT_CONTEXT.search(words):
        if code := index.find(words):
            return Route(Category.AIRPORT, slots={"airport": code})
        if not knowledge and (
            _HOME_AIRPORT.search(words)
            or (_QUESTION.match(words) and _AVIATION.search(words))
        ):
            return Route(Category.AIRPORT)
    for match in _AT_PLACE.finditer(words):
        first, second = match.groups()
        if (second and (code := index.code_for(f"{first} {second}"))) or (
            code := index.code_for(first)
        ):
            return Route(Category.AIRPORT, slots={"airport": code})
    return None


# --- Weather. ---
# Words that are about the weather wherever they are said.
_WEATHER = re.compile(
    r"\b(?:"
    + _words(
        "weather forecast rain rains raining rainy rainfall downpour showers drizzle",
        "drizzling sprinkles snow snows snowing snowy snowfall flurries blizzard",
        "sleet hail hailing sunny sunshine cloudy clouds overcast windy wind winds",
        "breezy gusts? gusty storms? stormy thunderstorms? thunder lightning",
        "tornado(?:es)? hurricane tropical_storm fog foggy misty hazy smog humid",
        "humidity muggy precipitation frost frosty freeze freezing icy heat_?wave",
        "cold_snap cold_front scorcher uv uv_index dew_point wind_chill heat_index",
        "air_quality pollen(?:_count)? barometric_pressure",
    )
    + r")\b"
)
# Words about the weather only when it is clear that the weather is meant.
_WEATHER_WEAK = re.compile(
    r"\b(?:"
    + _words(
        "hot hotter cold colder warm warmer cool cooler chilly nice dry wet mild",
        "clear clear_up sun temperature temp degrees below_zero above_zero",
        "the_(?:high|low)s? pour pouring gloomy beautiful miserable nasty sticky",
        # A temperature said as a threshold: "above seventy", "below 20".
        "(?:above|below)_(?:zero|freezing|\\d+|[a-z]+ty)",
    )
    + r")\b"
)
# The weather's "it" ("is it cold", "how's it looking", "will it pour") and the
# places, times and futures that point outside.
_WEATHER_IT = re.compile(
    r"\b(?:is|will|does|did|was) it\b|\bit(?:'s| is| will|'ll| was)\b"
    r"|\bhow(?:'s| is) it\b|\bwhat(?:'s| is| will) it\b|\bwill there be\b"
)
_OUTSIDE = re.compile(r"\b(?:outside|out there|outdoors|out)\b")
_WEATHER_HINT = re.compile(
    rf"\b(?:outside|out there|outdoors|out|going to|gonna|will it|will there be|"
    rf"tonight|tomorrow|today|weekend|this week|morning|afternoon|evening|later|"
    rf"overnight|{_WEEKDAY})\b"
    r"|\b(?:in|for) (?!(?:the|a|an|my|our|your|here|me|you|us|him|her|them|it|this|"
    r"that|now|sure|example|fact|case|general|real|free|once|time|years?|days?|"
    r"hours?|minutes?|\d+)\b)\w+"
)
_LIKE = re.compile(r"\bwhat(?:'s| is| will) it (?:going to |gonna )?(?:be )?like\b")
# What to wear or carry for the weather.
_GEAR = re.compile(
    r"\b(?:need|wear|bring|take|grab|pack)(?: [\w'-]+){0,5} (?:umbrella|raincoat|"
    r"rain jacket|jacket|coat|sweater|hoodie|jumper|shorts|gloves|mittens|hat|"
    r"scarf|boots|sunscreen|sun ?cream|sunglasses|layers|t-shirt)\b"
    r"|\bwhat (?:should|do|shall) i wear\b(?! to\b)|\bhow should i dress\b(?! for a)"
)

_WHEN_WORDS = re.compile(
    r"\b(tonight|tomorrow|today|weekend|this morning|this afternoon|this evening|"
    rf"overnight|later|right now|{_WEEKDAY})\b"
)
_WHEN_OF = {
    "this morning": "today",
    "this afternoon": "today",
    "later": "today",
    "this evening": "tonight",
    "overnight": "tonight",
    "right now": "now",
}
_STOP_WORDS = frozenset(
    (
        *WEEKDAYS,
        *("today", "tonight", "tomorrow", "weekend", "this", "next", "morning"),
        *("afternoon", "evening", "night", "week", "right", "now", "later"),
        *("the", "a", "an", "my", "our", "please", "general", "case", "advance"),
        *("one", "two", "three", "four", "five", "six", "ten", "few", "couple"),
        *("hour", "hours", "minute", "minutes", "while", "bit", "about", "like"),
        *("home", "there"),
    )
)
_PREPOSITION = re.compile(r"\b(?:in|for|at|near|around)\s+")
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


def _when(words: str) -> str:
    """Return the `when` slot: now, today, tonight, tomorrow, a weekday, weekend.

    The first time named, but "later" / "right now" give way to a day ("later
    tonight": tonight); "now" when none is named.
    """
    found = _WHEN_WORDS.findall(words)
    days = [f for f in found if f not in ("later", "right now")] or found
    return _WHEN_OF.get(days[0], days[0]) if days else "now"


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


def _weather(words: str) -> Route | None:
    """Return the route of a weather question, or None (`_WEATHER` ... `_GEAR`)."""
    if not (
        _WEATHER.search(words)
        or _GEAR.search(words)
        or (
            not _INDOOR.search(words)
            and (
                (
                    _WEATHER_WEAK.search(words)
                    and (_WEATHER_HINT.search(words) or _WEATHER_IT.search(words))
                )
                or (_WEATHER_IT.search(words) and _OUTSIDE.search(words))
                or (_LIKE.search(words) and _WHEN_WORDS.search(words))
            )
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


def _control(words: str) -> bool:
    """Whether `words` is a device command (see `_DEVICE_VERB` ... `_WISH`)."""
    if _DEVICE_VERB.match(words) or _TERSE_CONTROL.match(words):
        return True
    if match := _PLAY.match(words):
        return not _GAME.search(match.group("rest"))
    if match := _OTHER_VERB.match(words):
        rest = match.group("rest")
        return bool(
            _INDOOR.search(rest)
            or _SETTING.search(rest)
            or _DEFINITE_OBJECT.match(rest)
        )
    return bool(_WISH.match(words) and _INDOOR.search(words))


def _state(words: str) -> bool:
    """Whether `words` asks about the home: a device of it, or a room's climate."""
    if not _QUESTION.match(words):
        return False
    if _HOME_DEVICE.search(words) or _STATE_QUESTION.search(words):
        return True
    if _ROOM.search(words) and (
        _CLIMATE.search(words) or _PRESENCE.search(words) or _DEVICE_STATE.search(words)
    ):
        return True
    return bool(_SHORT_STATE.match(words)) and team_of(words, context=False) is None


def _single(words: str) -> Route:
    """Classify one request (no splitting)."""
    if reply := _greeting(words):
        return Route(Category.GREETING, reply)
    words = _TAIL.sub("", _LEAD.sub("", words)) or words
    if _TIME.match(words):
        return Route(Category.TIME, "time")
    if _DATE.match(words):
        return Route(Category.TIME, "date")
    knowledge = _KNOWLEDGE.search(words) is not None
    if (airport := _airport(words, knowledge=knowledge)) is not None:
        return airport
    if _control(words):
        return Route(Category.CONTROL)
    if _HISTORY.search(words):
        return Route(Category.GENERAL)
    if (sports := _sports(words, need_context=True)) is not None and (
        "team" in sports.slots or not knowledge
    ):
        return sports  # "why did the ravens lose", not "what is a power play"
    if knowledge and not _NOW_OR_HERE.search(words):
        return Route(Category.GENERAL)
    if _state(words):
        return Route(Category.STATE)
    if (sports := _sports(words, need_context=False)) is not None:
        return sports
    if (weather := _weather(words)) is not None:
        place = weather.slots.get("location", "")
        if code := airports.load().code_for(place):
            return Route(Category.AIRPORT, slots={"airport": code})
        return weather
    return Route(Category.GENERAL)


# Requests joined by "and" / "then", or by a comma before a new command or question.
_CLAUSE = (
    r"turn|switch|dim|brighten|lock|unlock|open|close|shut|set|start|stop|play|pause|"
    r"what|what's|when|when's|where|who|who's|how|how's|is|are|will|did|do|does|can|"
    r"tell|check"
)
_SPLIT = re.compile(
    r"\s*,?\s*\b(?:and then|and also|and|then|also|plus)\b\s*"
    rf"|\s*,\s*(?=(?:{_CLAUSE})\b)"
)


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
        if team := team_of(text):
            slots["team"] = team
        if league := league_of(text):
            slots["league"] = league
        return Route(Category.SPORTS, slots=slots, text=text) if slots else None
    if category is Category.AIRPORT:
        code = airports.load().find(text)
        return Route(
            Category.AIRPORT, slots={"airport": code} if code else {}, text=text
        )
    return None


# The router's slot readers, shared with the follow-up resolver (followup.py).
when_of = _when
location_of = _location
INDOOR = _INDOOR

"""The router: categories and slots, pure and fast (no Home Assistant needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from custom_components.athena.followup import resolve
from custom_components.athena.router import Category, normalize, route, team_of

DEV_SET = Path(__file__).parents[2] / "shared" / "eval" / "dev_utterances.yaml"
OWN_DEV_SET = Path(__file__).parents[1] / "bench" / "data" / "router_dev.yaml"


@pytest.mark.parametrize(
    ("text", "category", "slots"),
    [
        ("Hey Athena!", Category.GREETING, {}),
        ("thank you so much", Category.GREETING, {}),
        ("What's the time?", Category.TIME, {}),
        ("what day is it today", Category.TIME, {}),
        ("dim the bedroom lamp", Category.CONTROL, {}),
        ("is the garage door open", Category.STATE, {}),
        ("what's the humidity in the bedroom", Category.STATE, {}),
        ("is it raining", Category.WEATHER, {"when": "now"}),
        ("will it be sunny on friday", Category.WEATHER, {"when": "friday"}),
        ("how hot will it get tomorrow", Category.WEATHER, {"when": "tomorrow"}),
        (
            "what's the weather in paris this weekend",
            Category.WEATHER,
            {"when": "weekend", "location": "paris"},
        ),
        ("how did the giants do", Category.SPORTS, {"team": "giants"}),
        ("did the heat win last night", Category.SPORTS, {"team": "heat"}),
        ("premier league table", Category.SPORTS, {"league": "epl"}),
        ("are flights delayed at laguardia", Category.AIRPORT, {"airport": "LGA"}),
        ("what's the weather like at lax", Category.AIRPORT, {"airport": "LAX"}),
        (
            "is there a ground stop at atlanta airport",
            Category.AIRPORT,
            {"airport": "ATL"},
        ),
        ("explain how a heat pump works", Category.GENERAL, {}),
        ("who wrote pride and prejudice", Category.GENERAL, {}),
        ("play some jazz", Category.CONTROL, {}),
    ],
)
def test_route(text: str, category: Category, slots: dict[str, str]) -> None:
    decision = route(text)
    assert decision.category is category
    assert decision.slots == slots


def test_multi_keeps_order_and_parts() -> None:
    decision = route("turn on the fan, then tell me if it will rain tonight")
    assert decision.category is Category.MULTI
    assert [p.category for p in decision.parts] == [Category.CONTROL, Category.WEATHER]
    assert decision.parts[1].slots == {"when": "tonight"}
    # A conjunction inside one request does not split it.
    assert route("turn on the kitchen and living room lights").category is (
        Category.CONTROL
    )


def test_dev_set_categories() -> None:
    items = yaml.safe_load(DEV_SET.read_text())
    for item in items:
        decision = route(item["text"])
        assert decision.category == item["category"], item["text"]
        if parts := item.get("parts"):
            assert [p.category for p in decision.parts] == parts, item["text"]
        for key, value in (item.get("slots") or {}).items():
            assert decision.slots.get(key, "").lower() == str(value).lower(), item


# Each rule of the router on wordings of its own (none of them is in a dev set).


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("thanks so much athena, that's it", "thanks"),
        ("okay great, thank you", "thanks"),
        ("hey there buddy", "hello"),
        ("how are things", "hello"),
        ("afternoon!", "afternoon"),
    ],
)
def test_a_greeting_is_made_of_greeting_words(text: str, reply: str) -> None:
    decision = route(text)
    assert (decision.category, decision.reply) == (Category.GREETING, reply)


def test_a_greeting_needs_a_hello_or_a_thanks() -> None:
    assert route("okay").category is Category.GENERAL
    assert route("thanks, and is it going to rain tomorrow").category is (
        Category.WEATHER
    )


def test_speech_to_text_spellings_are_mended() -> None:
    assert normalize("Are there delays at B.W.I.?") == "are there delays at bwi"
    assert normalize("what's the whether in boston") == "what's the weather in boston"
    assert normalize("tell me whether or not it matters") == (
        "tell me whether or not it matters"
    )
    assert route("j f k ground stop").slots == {"airport": "JFK"}
    assert route("any delays at l g a").slots == {"airport": "LGA"}
    assert route("who won the bengal's game").slots == {"team": "bengals"}


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("could you tell me what time it is", "time"),
        ("what's the current date", "date"),
        ("is it wednesday", "date"),
        ("what time is it in paris", ""),
        ("what's the date next monday", ""),
    ],
)
def test_the_clock_is_the_whole_request(text: str, reply: str) -> None:
    decision = route(text)
    assert decision.category is (Category.TIME if reply else Category.GENERAL)
    assert decision.reply == reply


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("kill the porch lights", Category.CONTROL),
        ("crank the heat up", Category.CONTROL),
        ("start the washing machine", Category.CONTROL),
        ("i'd like the hallway lights off", Category.CONTROL),
        ("fan on in the nursery", Category.CONTROL),
        ("make me a smoothie recipe", Category.GENERAL),
        ("set up a budget for this month", Category.GENERAL),
        ("play a game with me", Category.GENERAL),
    ],
)
def test_a_verb_that_is_not_only_a_device_verb_needs_a_device(
    text: str, category: Category
) -> None:
    assert route(text).category is category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("is the coffee maker still on", Category.STATE),
        ("did we leave the patio door unlocked", Category.STATE),
        ("how warm is it upstairs", Category.STATE),
        ("what's the thermostat at", Category.STATE),
        ("what does a humidifier do", Category.GENERAL),
        ("what is the speed of light", Category.GENERAL),
    ],
)
def test_a_state_question_names_a_device_of_the_home(
    text: str, category: Category
) -> None:
    assert route(text).category is category


@pytest.mark.parametrize(
    "text",
    [
        "how do tornadoes form",
        "what's the difference between sleet and hail",
        "who sang stormy weather",
        "what's the weather usually like in march in paris",
        "what's the weather like on venus",
        "what is a power play in hockey",
        "who won the super bowl in nineteen ninety",
    ],
)
def test_a_knowledge_question_with_weather_or_sports_words_is_general(
    text: str,
) -> None:
    assert route(text).category is Category.GENERAL


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("is the eagles game on tv tonight", {"team": "eagles"}),
        ("are the sixers on tonight", {"team": "76ers"}),
        ("did the red socks win", {"team": "red sox"}),
        ("why did the heat lose", {"team": "heat"}),
        ("how did sevilla get on", {"team": "sevilla"}),
        ("when is the stanley cup final", {"league": "nhl"}),
        ("who won the game", {}),
    ],
)
def test_game_words_make_a_team_question(text: str, slots: dict[str, str]) -> None:
    decision = route(text)
    assert (decision.category, decision.slots) == (Category.SPORTS, slots)


def test_a_club_named_after_a_place_needs_game_words() -> None:
    decision = route("weather in liverpool tomorrow")
    assert decision.category is Category.WEATHER
    assert decision.slots == {"when": "tomorrow", "location": "liverpool"}
    assert team_of("the niners game") == "49ers"


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("is sea tac delayed", {"airport": "SEA"}),
        ("are planes taking off at o'hare", {"airport": "ORD"}),
        ("how are departures at frankfurt airport", {"airport": "FRA"}),
        ("how's the weather at sfo", {"airport": "SFO"}),
        ("what about at logan", {"airport": "BOS"}),
        ("are arrivals running late", {}),
    ],
)
def test_airport_words_with_an_airport_or_about_flying(
    text: str, slots: dict[str, str]
) -> None:
    decision = route(text)
    assert (decision.category, decision.slots) == (Category.AIRPORT, slots)


def test_delays_of_other_things_are_not_the_airport() -> None:
    assert route("is the train running late").category is Category.GENERAL
    assert route("how do i get to the airport").category is Category.GENERAL


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("is it gonna pour tonight", {"when": "tonight"}),
        ("will I need a hat and gloves tomorrow", {"when": "tomorrow"}),
        ("how chilly is it out", {"when": "now"}),
        ("will it be below freezing on friday", {"when": "friday"}),
        ("is there a blizzard coming this weekend", {"when": "weekend"}),
        ("what's it going to be like on sunday", {"when": "sunday"}),
        ("is it warm in miami", {"when": "now", "location": "miami"}),
        ("why is it so humid today", {"when": "today"}),
        ("is it going to rain in an hour", {"when": "now"}),
        ("is it going to rain later tonight", {"when": "tonight"}),
        ("what's the high today and tomorrow", {"when": "today"}),
    ],
)
def test_weather_without_the_word_weather(text: str, slots: dict[str, str]) -> None:
    decision = route(text)
    assert (decision.category, decision.slots) == (Category.WEATHER, slots)


def test_what_to_wear_somewhere_is_not_the_weather() -> None:
    assert route("what should I wear to the party").category is Category.GENERAL


def test_a_comma_before_a_new_command_splits() -> None:
    decision = route(
        "close the garage, lock the front door and turn off the porch light"
    )
    assert decision.category is Category.MULTI
    assert [p.category for p in decision.parts] == [Category.CONTROL] * 3


def test_own_dev_set_accuracy() -> None:
    """bench/data/router_dev.yaml: at least 97% of categories (a regression guard)."""
    items = yaml.safe_load(OWN_DEV_SET.read_text())
    right = sum(route(item["text"]).category == item["category"] for item in items)
    assert right / len(items) >= 0.97


@pytest.mark.parametrize(
    "text",
    [
        "who wrote hamlet",
        "tell me a joke",
        "when was it written",
        "how do you make pancakes",
        "can you sing",
    ],
)
def test_a_question_of_its_own_after_a_weather_answer_is_not_a_place(
    text: str,
) -> None:
    """Short general questions after a forecast are not "the weather in <text>"."""
    previous = route("will it rain tomorrow")
    assert resolve(text, route(text), previous).category is Category.GENERAL


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("and in denver?", "denver"),
        ("what about paris", "paris"),
        ("boston?", "boston"),
    ],
)
def test_a_place_after_a_weather_answer_is_that_places_weather(
    text: str, place: str
) -> None:
    previous = route("will it rain tomorrow")
    resolved = resolve(text, route(text), previous)
    assert resolved.category is Category.WEATHER
    assert resolved.slots == {"when": "tomorrow", "location": place}

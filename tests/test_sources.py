"""Weather, sports and airport answers against loopback replays of the real APIs.

HA weather entities are HA's `template` weather fed with captured
`weather.get_forecasts` rows; Open-Meteo, ESPN, FAA and aviationweather.gov are
`FakeWeb` replaying tests/fixtures/. The backend is the fake Ollama server.
"""

from __future__ import annotations

import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest

from homeassistant.core import HomeAssistant
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM

from custom_components.athena.classifier import INSTRUCTION
from custom_components.athena.const import (
    BACKEND_OLLAMA,
    CONF_CLASSIFY_MODEL,
    CONF_FAVOURITE_TEAMS,
    CONF_HOME_AIRPORT,
)
from custom_components.athena.sources.sports import candidate_leagues, spoken_time
from custom_components.athena.sources.weather import Units, periods, summarize

from .conftest import (
    ESPN,
    agent_id,
    ask,
    forecast_rows,
    make_entry,
    setup_athena_with_web,
    setup_entry,
    speech,
    use_web,
    weather_entity,
)
from .fakes import FIXTURES, FakeOllama, FakeWeb

DAILY = "get_forecasts-response-open_meteo-daily.json"  # Nov 24-30, 2021


def _facts(fake_ollama: FakeOllama) -> str:
    """The newest user message of the last chat request (question + facts)."""
    return fake_ollama.chat_requests()[-1].body["messages"][-1]["content"]


# Weather


@pytest.fixture
async def home_forecast(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> str:
    """Athena with a weather entity replaying a captured daily forecast; it is
    10:00 on 2021-11-23 in HA's test zone, the day before the first row.
    """
    freezer.move_to("2021-11-23T18:00:00+00:00")
    await weather_entity(hass, forecast_rows(DAILY))
    return await setup_athena_with_web(hass, fake_ollama, fake_web)


async def test_weather_entity_daily_facts_reach_the_model(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    home_forecast: str,
) -> None:
    agent = home_forecast
    fake_ollama.reply = lambda body: "Yes, rain tomorrow with a high of 8 °C."
    result = await ask(hass, "will it rain tomorrow", agent)
    assert speech(result) == "Yes, rain tomorrow with a high of 8 °C."
    facts = _facts(fake_ollama)
    assert facts.startswith(
        "will it rain tomorrow\n\n[Weather for Home, in degrees Celsius:"
    )
    assert (
        "Tomorrow (Wednesday, November 24): rainy, high 8 degrees, low 6 degrees"
        in facts
    )
    # The system prompt stays the persona: the facts ride on the user message.
    system = fake_ollama.chat_requests()[-1].body["messages"][0]["content"]
    assert "Weather" not in system
    assert fake_web.requests == []  # the entity answered, not Open-Meteo


async def test_weather_worked_example_comes_last(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    home_forecast: str,
) -> None:
    """A fact turn sends a worked example of its kind just before the question;
    the next turn's prompt starts with everything before that example, byte for
    byte, so the backend's KV cache still holds it."""
    agent = home_forecast
    first = await ask(hass, "will it rain tomorrow", agent)
    await ask(hass, "who wrote hamlet", agent, first.conversation_id)
    weather, hamlet = (r.body["messages"] for r in fake_ollama.chat_requests())
    example_question, example_answer, question = weather[-3:]
    assert example_question["content"].startswith("will it rain tomorrow\n\n[")
    assert "Tomorrow (Monday, March 2)" in example_question["content"]
    assert example_answer["role"] == "assistant"
    assert question["content"].startswith("will it rain tomorrow\n\n[Weather for")
    assert hamlet[: len(weather) - 2] == [*weather[:-3], question]


async def test_ungrounded_number_is_replaced_by_the_template(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    home_forecast: str,
) -> None:
    agent = home_forecast
    fake_ollama.reply = lambda body: "Tomorrow will be sunny and 25 degrees."
    result = await ask(hass, "will it rain tomorrow", agent)
    assert speech(result).startswith("In Home: Tomorrow (Wednesday, November 24): rain")
    assert "25" not in speech(result)


async def test_backend_down_gives_the_template_answer(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    home_forecast: str,
) -> None:
    agent = home_forecast
    await fake_ollama.stop()
    result = await ask(hass, "will it rain tomorrow", agent)
    assert result.response.response_type.value == "action_done"
    assert speech(result).startswith("In Home: Tomorrow (Wednesday, November 24): rain")
    assert "high 8 degrees, low 6 degrees" in speech(result)


async def test_hourly_only_entity_tonight(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> None:
    await hass.config.async_set_time_zone("America/New_York")
    freezer.move_to("2019-08-12T21:00:00+00:00")  # 17:00 EDT; the row is 20:00 EDT
    # HA's template weather refuses NWS's extra `detailed_description`.
    rows = [
        {k: v for k, v in row.items() if k != "detailed_description"}
        for row in forecast_rows("get_forecasts-response-nws-hourly.json")
    ]
    await weather_entity(hass, rows, kind="hourly")
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    await ask(hass, "what's the weather tonight", agent)
    assert "Tonight (Monday, August 12): thunderstorms with rain" in _facts(fake_ollama)
    assert "89 percent chance of precipitation" in _facts(fake_ollama)


async def test_open_meteo_for_a_named_place(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> None:
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    freezer.move_to("2026-10-03T06:00:00+00:00")
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    await ask(hass, "is it going to rain in enschede tomorrow", agent)
    (geocode,) = fake_web.hits("/geocoding")
    assert geocode[1]["name"] == "enschede"
    (forecast,) = fake_web.hits("/open_meteo")
    assert forecast[1]["latitude"] == "52.2183"
    assert forecast[1]["timezone"] == "Europe/Amsterdam"
    assert "temperature_unit" not in forecast[1]  # metric: Open-Meteo's defaults
    facts = _facts(fake_ollama)
    assert (
        "Weather for Enschede, Overijssel, The Netherlands, in degrees Celsius:"
        in facts
    )
    assert "Tomorrow (Sunday, October 4): fog" in facts
    assert "8 percent chance of precipitation" in facts
    # The same question again is served from the cache.
    await ask(hass, "is it going to rain in enschede tomorrow", agent)
    assert len(fake_web.hits("/open_meteo")) == 1


async def test_open_meteo_in_imperial_units(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-10-03T06:00:00+00:00")
    hass.config.units = US_CUSTOMARY_SYSTEM
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    await ask(hass, "what's the weather like tomorrow", agent)  # no entity: home
    (forecast,) = fake_web.hits("/open_meteo")
    assert forecast[1]["temperature_unit"] == "fahrenheit"
    assert forecast[1]["wind_speed_unit"] == "mph"
    assert forecast[1]["precipitation_unit"] == "inch"
    assert forecast[1]["latitude"] == f"{hass.config.latitude:.4f}"


async def test_unknown_place_is_said(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    fake_web.serve(
        "/geocoding/v1/search", "open-meteo/geocoding-search-no-results.json"
    )
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    result = await ask(hass, "what's the weather in atlantis tomorrow", agent)
    assert speech(result) == "Sorry, I couldn't find a place called atlantis."
    assert fake_ollama.chat_requests() == []


@pytest.mark.parametrize(
    ("status", "body", "hang"),
    [(500, "upstream error", False), (200, "<html>oops</html>", False), (0, "", True)],
    ids=["http_500", "garbage", "timeout"],
)
async def test_weather_source_failures_are_said(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    status: int,
    body: str,
    hang: bool,
) -> None:
    if hang:
        fake_web.hang.add("/open_meteo")
    else:
        fake_web.serve("/open_meteo/v1/forecast", status=status, body=body)
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    result = await ask(hass, "will it rain tomorrow", agent)
    assert speech(result) == "Sorry, I couldn't get the weather forecast right now."


def test_periods_tonight_after_midnight_and_weekday_roll_over() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    late = datetime(2026, 11, 21, 1, 30, tzinfo=zone)  # Saturday 01:30
    (tonight,) = periods("tonight", late)
    assert (tonight.start, tonight.end.hour, tonight.end.day) == (late, 6, 21)
    evening = datetime(2026, 11, 21, 15, 0, tzinfo=zone)
    (tonight,) = periods("tonight", evening)
    assert (tonight.start.hour, tonight.end.day, tonight.end.hour) == (18, 22, 6)
    (friday,) = periods("friday", evening)  # Saturday asks for Friday: next week
    assert friday.start.date().isoformat() == "2026-11-27"
    (saturday,) = periods("saturday", evening)
    assert saturday.label == "Today"
    assert [p.label for p in periods("weekend", evening)] == ["Saturday", "Sunday"]
    sunday = datetime(2026, 11, 22, 9, 0, tzinfo=zone)
    assert [p.label for p in periods("weekend", sunday)] == ["Today"]
    (tomorrow,) = periods("tomorrow", datetime(2026, 12, 31, 23, 0, tzinfo=zone))
    assert tomorrow.start.date().isoformat() == "2027-01-01"


@pytest.mark.parametrize(
    ("amount", "spoken"),
    [(1.0, "1 inch of"), (0.6, "0.6 inches of"), (2, "2 inches of")],
)
def test_precipitation_is_spoken_in_words_with_its_number(
    amount: float, spoken: str
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    (day,) = periods("tomorrow", datetime(2026, 11, 21, 9, tzinfo=ZoneInfo("UTC")))
    row = {"datetime": "2026-11-22T00:00:00+00:00", "temperature": 50}
    line = summarize(day, [{**row, "precipitation": amount}], Units("°F", "in", "mph"))
    assert line is not None
    assert f"Tomorrow also: {spoken} precipitation." in line
    assert "high 50 degrees" in line


# Sports


async def test_live_score(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    await ask(hass, "did the ravens win", agent)
    facts = _facts(fake_ollama)
    assert "Baltimore Ravens (NFL):" in facts
    assert "Live: Baltimore Ravens 24, New York Jets 3 (1:21 - 4th Quarter)." in facts


async def test_last_result_and_next_game(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
) -> None:
    await hass.config.async_set_time_zone("America/New_York")
    # MLS's team list is not captured; it is built from the captured team object.
    team = json.loads(
        (FIXTURES / "espn/mls-team-183-columbus-crew-team.json").read_text()
    )["team"]
    teams = {"sports": [{"leagues": [{"teams": [{"team": team}]}]}]}
    fake_web.serve(f"{ESPN}/soccer/usa.1/teams", body=json.dumps(teams))
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    fake_ollama.reply = lambda body: "They play Atlanta on April 4 at 7:30 PM."
    result = await ask(hass, "when do the crew play next", agent)
    facts = _facts(fake_ollama)
    assert "Columbus Crew (MLS):" in facts
    assert "Final, " in facts
    assert (
        "Next game: Saturday, April 4 at 7:30 PM, away at Atlanta United FC." in facts
    )
    assert speech(result) == "They play Atlanta on April 4 at 7:30 PM."


def test_shared_nickname_by_season_then_favourites() -> None:
    from datetime import datetime

    assert candidate_leagues("giants", None, [], datetime(2026, 11, 1))[0] == "nfl"
    assert candidate_leagues("giants", None, [], datetime(2026, 6, 1))[0] == "mlb"
    assert candidate_leagues("giants", None, ["mlb giants"], datetime(2026, 11, 1)) == [
        "mlb"
    ]
    assert candidate_leagues("giants", "nfl", ["mlb giants"], datetime(2026, 6, 1)) == [
        "nfl"
    ]


async def test_game_across_midnight_utc_is_local(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("America/New_York")
    # Cowboys-Buccaneers, 2022-09-12 00:20 UTC: Sunday night on the east coast.
    assert spoken_time("2022-09-12T00:20Z") == "Sunday, September 11 at 8:20 PM"


async def test_favourite_team_option_is_used(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    agent = await setup_athena_with_web(
        hass, fake_ollama, fake_web, options={CONF_FAVOURITE_TEAMS: ["nfl giants"]}
    )
    await ask(hass, "when do the giants play", agent)
    assert "New York Giants (NFL):" in _facts(fake_ollama)
    assert "Next game: Sunday, September 11" in _facts(fake_ollama)


@pytest.mark.parametrize(
    ("status", "body"), [(500, "oops"), (200, "not json")], ids=["http", "garbage"]
)
async def test_sports_failure_is_said(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    status: int,
    body: str,
) -> None:
    fake_web.serve(f"{ESPN}/football/nfl/scoreboard", status=status, body=body)
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    result = await ask(hass, "did the ravens win", agent)
    assert speech(result) == "Sorry, I couldn't reach the sports scores service."


async def test_league_scoreboard(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    await ask(hass, "nfl scores", agent)
    facts = _facts(fake_ollama)
    assert "NFL scoreboard:" in facts
    assert facts.count("Live: ") == 6  # live games first, six at most


# Airports


async def test_airport_delays_and_metar(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    await ask(hass, "any ground stops at san francisco airport", agent)
    facts = _facts(fake_ollama)
    assert "San Francisco International Airport (SFO):" in facts
    assert (
        "Ground delay program: average 36 minutes, up to 1 hour and 35 minutes, "
        "because of low ceilings." in facts
    )
    assert "Departure delays of 31 minutes to 45 minutes, increasing" in facts
    assert "Weather at KSFO now: marginal VFR, wind WSW at 7 knots" in facts
    assert "ceiling 1400 feet" in facts
    (metar,) = fake_web.hits("/aviationweather")
    assert metar[1] == {"ids": "KSFO", "format": "json"}


async def test_faa_down_still_gives_the_metar(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    fake_web.serve("/faa/api/airport-status-information", status=503, body="down")
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    await ask(hass, "is sfo delayed", agent)
    facts = _facts(fake_ollama)
    assert "The FAA flight-status service could not be reached." in facts
    assert "Weather at KSFO now" in facts


async def test_no_metar_on_file_gives_the_faa_status(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    fake_web.serve("/aviationweather/api/data/metar", status=204, body="")
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    await ask(hass, "are there delays at dfw airport", agent)
    facts = _facts(fake_ollama)
    assert "(DFW):\nNo delays or ground stops reported by the FAA." in facts


@pytest.mark.parametrize("fault", ["http", "garbage", "timeout"])
async def test_both_airport_sources_down_is_said(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb, fault: str
) -> None:
    if fault == "timeout":
        fake_web.hang.update({"/faa", "/aviationweather"})
    else:
        status, body = (500, "x") if fault == "http" else (200, "<<<garbage")
        fake_web.serve("/faa/api/airport-status-information", status=status, body=body)
        fake_web.serve("/aviationweather/api/data/metar", status=status, body=body)
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    result = await ask(hass, "any delays at jfk airport", agent)
    assert speech(result) == "Sorry, I couldn't reach the flight-status service."


async def test_home_airport_option(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    agent = await setup_athena_with_web(
        hass, fake_ollama, fake_web, options={CONF_HOME_AIRPORT: "SFO"}
    )
    await ask(hass, "any delays at the airport", agent)
    assert "(SFO):\nGround delay program" in _facts(fake_ollama)


async def test_no_airport_and_no_home_airport_asks_which(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    agent = await setup_athena_with_web(hass, fake_ollama, fake_web)
    result = await ask(hass, "any delays at the airport", agent)
    assert speech(result).startswith("Which airport?")


# Optional LLM classification


async def test_classification_model_places_what_rules_cannot(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2021-11-24T18:00:00+00:00")  # today = the first row
    await weather_entity(hass, forecast_rows(DAILY))
    entry = make_entry(
        BACKEND_OLLAMA, ollama=fake_ollama, agent={CONF_CLASSIFY_MODEL: "qwen3:0.6b"}
    )
    await setup_entry(hass, entry)
    use_web(entry, fake_web)
    agent = agent_id(hass)

    def reply(body: dict[str, Any]) -> str:
        if body["messages"][0]["content"] == INSTRUCTION:
            return "Weather."
        return "Rain, with a high of 8."

    fake_ollama.reply = reply
    for _ in range(2):
        result = await ask(hass, "good picnic day?", agent)
        assert speech(result) == "Rain, with a high of 8."
    classified = [
        r for r in fake_ollama.chat_requests() if r.body["model"] == "qwen3:0.6b"
    ]
    assert len(classified) == 1  # the second time came from the cache
    assert classified[0].body["options"]["num_predict"] == 3


async def test_classification_failure_keeps_general(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    entry = make_entry(
        BACKEND_OLLAMA, ollama=fake_ollama, agent={CONF_CLASSIFY_MODEL: "qwen3:0.6b"}
    )
    await setup_entry(hass, entry)
    use_web(entry, fake_web)
    fake_ollama.reply = lambda body: "I'm not sure what that is."
    result = await ask(hass, "good picnic day?", agent_id(hass))
    assert speech(result) == "I'm not sure what that is."
    assert fake_web.requests == []

"""Weather facts: a Home Assistant weather entity first, Open-Meteo for named places.

Entity: `weather.get_forecasts` (daily, else twice-daily, else hourly folded into
days; hourly for "tonight" when offered), values in the entity's units. Open-Meteo:
https://open-meteo.com/en/docs (forecast: `current`, `hourly`, `daily`, `timezone`,
`temperature_unit`/`wind_speed_unit`/`precipitation_unit`) and
https://open-meteo.com/en/docs/geocoding-api (`/v1/search?name=`), in HA's unit
system and time zone. Dates are HA's local dates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.weather import WeatherEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM

from ..const import CONF_WEATHER_ENTITY
from ..router import WEEKDAYS
from . import Facts, SourceError, Sources
from .text import source_text

ERROR = "weather_unavailable"
GEOCODE_TTL = 7 * 24 * 3600.0
FORECAST_TTL = 15 * 60.0

# WMO weather interpretation codes (WMO 4677, as used by Open-Meteo's `weather_code`)
# to Home Assistant's conditions, as in HA core's open_meteo integration.
WMO_TO_CONDITION: dict[int, str] = {
    0: "sunny",
    1: "partlycloudy",
    2: "partlycloudy",
    3: "cloudy",
    45: "fog",
    48: "fog",
    **dict.fromkeys((51, 53, 55, 56, 57, 61, 63, 66, 67, 80, 81), "rainy"),
    65: "pouring",
    82: "pouring",
    **dict.fromkeys((71, 73, 75, 77, 85, 86), "snowy"),
    95: "lightning",
    96: "lightning-rainy",
    99: "lightning-rainy",
}
# Home Assistant's weather conditions in words.
CONDITION_WORDS: dict[str, str] = {
    "clear-night": "clear",
    "cloudy": "cloudy",
    "exceptional": "exceptional weather",
    "fog": "fog",
    "hail": "hail",
    "lightning": "thunderstorms",
    "lightning-rainy": "thunderstorms with rain",
    "partlycloudy": "partly cloudy",
    "pouring": "heavy rain",
    "rainy": "rainy",  # not "rain": a small model makes that "heavy rain"
    "snowy": "snow",
    "snowy-rainy": "sleet",
    "sunny": "sunny",
    "windy": "windy",
    "windy-variant": "windy and cloudy",
}


@dataclass(frozen=True, slots=True)
class Period:
    """The span a question asks about: a label and local [start, end)."""

    label: str
    start: datetime
    end: datetime


def periods(when: str, now: datetime) -> list[Period]:
    """Return the periods of the `when` slot at local time `now`.

    now/today: the rest of today; tonight: 18:00 to 06:00 (after midnight, the
    night in progress, until 06:00); tomorrow; a weekday: its next date (today
    counts); weekend: Saturday and Sunday (on a Sunday, only today).
    """
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def day(offset: int, label: str) -> Period:
        start = midnight + timedelta(days=offset)
        return Period(label, max(start, now), start + timedelta(days=1))

    if when == "tonight":
        if now.hour < 6:
            return [Period("Tonight", now, midnight + timedelta(hours=6))]
        evening = midnight + timedelta(hours=18)
        return [Period("Tonight", max(evening, now), evening + timedelta(hours=12))]
    if when == "tomorrow":
        return [day(1, "Tomorrow")]
    if when in WEEKDAYS:
        offset = (WEEKDAYS.index(when) - now.weekday()) % 7
        return [day(offset, "Today" if offset == 0 else when.capitalize())]
    if when == "weekend":
        if now.weekday() == 6:
            return [day(0, "Today")]
        saturday = (5 - now.weekday()) % 7
        return [day(saturday, "Saturday"), day(saturday + 1, "Sunday")]
    return [day(0, "Today")]


@dataclass(frozen=True, slots=True)
class Units:
    """Unit symbols of the values in a forecast."""

    temperature: str
    precipitation: str
    wind: str


# Units as they are spoken. The facts are read aloud as they are (the template
# sentence) and copied by a small model, which copies a word far more reliably
# than "°C" or "km/h" (bench.answer_quality). The scale of "degrees" is said once,
# in the facts' title.
SPOKEN_UNITS: dict[str, str] = {
    "°C": "degrees",
    "°F": "degrees",
    "km/h": "kilometers per hour",
    "mph": "miles per hour",
    "m/s": "meters per second",
    "kn": "knots",
    "ft/s": "feet per second",
    "mm": "millimeters",
    "cm": "centimeters",
    "in": "inches",
}
SINGULAR = {"millimeters": "millimeter", "centimeters": "centimeter", "inches": "inch"}
SCALES = {"°C": "Celsius", "°F": "Fahrenheit"}


def _spoken(unit: str) -> str:
    return SPOKEN_UNITS.get(unit, unit)


def _round(value: Any) -> int | None:
    return round(float(value)) if isinstance(value, (int, float)) else None


def summarize(period: Period, rows: list[dict[str, Any]], units: Units) -> str | None:
    """Return the facts lines for `period` from forecast rows (HA's shape).

    Hourly rows inside the period are folded (max/min temperature, most common
    condition, highest precipitation chance, summed precipitation, strongest
    wind); a daily row counts for the date written in its `datetime`. The first
    line says what a question about the day asks for (condition, high, low,
    chance of precipitation), a second one ("Tomorrow also: ...") the amount of
    precipitation and the wind, units in words. None when no row covers the
    period.
    """
    inside = []
    for row in rows:
        stamp = str(row.get("datetime"))
        start = dt_util.parse_datetime(stamp)
        if start is None:
            continue
        if row.get("templow") is not None or row.get("is_daytime") is not None:
            # A daily row is the provider's calendar day: its date as written.
            if stamp[:10] == period.start.date().isoformat():
                inside.append(row)
        elif (
            period.start - timedelta(minutes=59) <= dt_util.as_local(start) < period.end
        ):
            inside.append(row)
    if not inside:
        return None
    temps = [t for r in inside if (t := _round(r.get("temperature"))) is not None]
    lows = [t for r in inside if (t := _round(r.get("templow"))) is not None]
    conditions = Counter(str(r["condition"]) for r in inside if r.get("condition"))
    chances = [
        int(r["precipitation_probability"])
        for r in inside
        if r.get("precipitation_probability") is not None
    ]
    amounts = [
        float(r["precipitation"]) for r in inside if r.get("precipitation") is not None
    ]
    winds = [w for r in inside if (w := _round(r.get("wind_speed"))) is not None]
    parts = []
    if conditions:
        condition = conditions.most_common(1)[0][0]
        if words := CONDITION_WORDS.get(condition):  # our words, never the source's
            parts.append(words)
    degrees = _spoken(units.temperature)
    if temps:
        parts.append(f"high {max(temps)} {degrees}")
    if lows or len(temps) > 1:
        parts.append(f"low {min(lows or temps)} {degrees}")
    if chances:
        parts.append(f"{max(chances)} percent chance of precipitation")
    more = []
    if amounts:
        amount = round(sum(amounts), 1)
        unit = _spoken(units.precipitation)
        if amount == 1:  # "1 inch", not "1 inches"
            unit = SINGULAR.get(unit, unit)
        more.append(f"{amount:g} {unit} of precipitation")
    if winds:
        more.append(f"wind up to {max(winds)} {_spoken(units.wind)}")
    when = f"{period.label} ({period.start:%A}, {period.start:%B} {period.start.day})"
    return _lines(when, period.label, parts, more)


def _lines(when: str, label: str, parts: list[str], more: list[str]) -> str:
    """Return "When: parts." and, when there is more, "Label also: more."."""
    if not parts:
        return f"{when}: {', '.join(more)}."
    if not more:
        return f"{when}: {', '.join(parts)}."
    return f"{when}: {', '.join(parts)}.\n{label} also: {', '.join(more)}."


def current_line(current: Mapping[str, Any], units: Units) -> str | None:
    """Return the facts lines for the current conditions (None: nothing known).

    `current` is HA-shaped: `condition` (HA's condition names), `temperature`,
    `apparent_temperature`, `humidity` (%), `wind_speed`; any may be missing.
    "Now: condition, temperature." then "Now also: feels like, humidity, wind.",
    units in words.
    """
    parts = []
    if words := CONDITION_WORDS.get(str(current.get("condition"))):
        parts.append(words)
    degrees = _spoken(units.temperature)
    if (temperature := _round(current.get("temperature"))) is not None:
        parts.append(f"temperature {temperature} {degrees}")
    more = []
    feels = _round(current.get("apparent_temperature"))
    if feels is not None and feels != temperature:
        more.append(f"feels like {feels} {degrees}")
    if (humidity := _round(current.get("humidity"))) is not None:
        more.append(f"humidity {humidity} percent")
    if (wind := _round(current.get("wind_speed"))) is not None:
        more.append(f"wind {wind} {_spoken(units.wind)}")
    return _lines("Now", "Now", parts, more) if parts or more else None


def _entity_current(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    """Return a HA weather entity's current conditions: its state and attributes."""
    state = hass.states.get(entity_id)
    if state is None:
        return {}
    attributes = state.attributes
    return {
        "condition": state.state,
        **{
            key: attributes.get(key)
            for key in ("temperature", "apparent_temperature", "humidity", "wind_speed")
        },
    }


def _entity_named(hass: HomeAssistant, place: str) -> str | None:
    """Return the weather entity named `place` ("london" -> weather.london), if any."""
    wanted = " ".join(place.lower().split())
    return next(
        (
            state.entity_id
            for state in hass.states.async_all("weather")
            if " ".join(state.name.lower().split()) == wanted
        ),
        None,
    )


def _facts(place: str, lines: list[str], units: Units) -> Facts:
    scale = SCALES.get(units.temperature)
    title = (
        f"Weather for {place}, in degrees {scale}:"
        if scale
        else f"Weather for {place}:"
    )
    text = f"{title}\n" + "\n".join(lines)
    return Facts(text=text, sentence=f"In {place}: " + " ".join(text.splitlines()[1:]))


async def async_entity_rows(
    hass: HomeAssistant, entity_id: str, hourly_first: bool
) -> tuple[list[dict[str, Any]], Units]:
    """Forecast rows and units of a HA weather entity via `weather.get_forecasts`.

    Takes daily, else twice-daily, else hourly (hourly first when `hourly_first`
    and offered). Raises `SourceError` when the entity is missing, offers no
    forecast, the service fails or the forecast is empty.
    """
    state = hass.states.get(entity_id)
    if state is None:
        raise SourceError(ERROR, f"{entity_id} not found")
    features = WeatherEntityFeature(state.attributes.get("supported_features", 0))
    order = [
        ("daily", WeatherEntityFeature.FORECAST_DAILY),
        ("twice_daily", WeatherEntityFeature.FORECAST_TWICE_DAILY),
        ("hourly", WeatherEntityFeature.FORECAST_HOURLY),
    ]
    if hourly_first:
        order.insert(0, order.pop())
    kind = next((name for name, flag in order if flag in features), None)
    if kind is None:
        raise SourceError(ERROR, f"{entity_id} offers no forecast")
    try:
        response = await hass.services.async_call(
            "weather",
            "get_forecasts",
            {"entity_id": entity_id, "type": kind},
            blocking=True,
            return_response=True,
        )
    except HomeAssistantError as err:
        raise SourceError(ERROR, f"{entity_id}: {err}") from err
    result: Any = (response or {}).get(entity_id)
    rows = result.get("forecast") if isinstance(result, dict) else None
    if not isinstance(rows, list) or not rows:
        raise SourceError(ERROR, f"{entity_id}: empty {kind} forecast")
    attributes = state.attributes
    units = Units(
        temperature=str(attributes.get("temperature_unit", "")),
        precipitation=str(attributes.get("precipitation_unit", "")),
        wind=str(attributes.get("wind_speed_unit", "")),
    )
    return rows, units


async def async_geocode(
    hass: HomeAssistant, sources: Sources, place: str
) -> dict[str, Any]:
    """Return Open-Meteo's best geocoding match for `place` (name, latitude, ...).

    Raises `SourceError("weather_place_unknown")` when nothing matches.
    """
    body = await sources.async_fetch(
        hass,
        f"{sources.urls.geocoding}/v1/search",
        {"name": place, "count": "1", "language": "en", "format": "json"},
        GEOCODE_TTL,
        ERROR,
    )
    results = body.get("results") if isinstance(body, dict) else None
    if not results or not isinstance(results[0], dict) or "latitude" not in results[0]:
        raise SourceError(
            "weather_place_unknown", f"no match for {place!r}", place=place
        )
    return dict(results[0])


async def async_open_meteo_rows(
    hass: HomeAssistant,
    sources: Sources,
    latitude: float,
    longitude: float,
    by_hour: bool,
) -> tuple[list[dict[str, Any]], Units, dict[str, Any]]:
    """Return Open-Meteo's forecast rows, their units and the current conditions.

    Rows are hourly or daily, HA-shaped; the current conditions are HA-shaped (see
    `current_line`), {} when the body has none. Raises `SourceError` on a failed
    request or a body without `daily`/`hourly`.
    """
    imperial = hass.config.units is US_CUSTOMARY_SYSTEM
    params = {
        "latitude": f"{latitude:.4f}",
        "longitude": f"{longitude:.4f}",
        "daily": "weather_code,temperature_2m_max,temperature_2m_min,"
        "precipitation_probability_max,precipitation_sum,wind_speed_10m_max",
        "hourly": "weather_code,temperature_2m,precipitation_probability,"
        "precipitation,wind_speed_10m",
        "current": "weather_code,temperature_2m,apparent_temperature,"
        "relative_humidity_2m,wind_speed_10m",
        "timezone": hass.config.time_zone,
        "forecast_days": "8",
        **(
            {
                "temperature_unit": "fahrenheit",
                "wind_speed_unit": "mph",
                "precipitation_unit": "inch",
            }
            if imperial
            else {}
        ),
    }
    body = await sources.async_fetch(
        hass, f"{sources.urls.open_meteo}/v1/forecast", params, FORECAST_TTL, ERROR
    )
    try:
        daily, hourly = body["daily"], body["hourly"]
        units = Units(
            temperature=body["daily_units"]["temperature_2m_max"],
            precipitation=body["daily_units"]["precipitation_sum"],
            wind=body["daily_units"]["wind_speed_10m_max"],
        )
        zone = dt_util.get_time_zone(body.get("timezone") or hass.config.time_zone)
        rows = [
            {
                "datetime": f"{day}T00:00:00",
                "condition": WMO_TO_CONDITION.get(daily["weather_code"][i]),
                "temperature": daily["temperature_2m_max"][i],
                "templow": daily["temperature_2m_min"][i],
                "precipitation_probability": daily["precipitation_probability_max"][i],
                "precipitation": daily["precipitation_sum"][i],
                "wind_speed": daily["wind_speed_10m_max"][i],
            }
            for i, day in enumerate(daily["time"])
        ]
        hours = [
            {
                "datetime": f"{hour}",
                "condition": WMO_TO_CONDITION.get(hourly["weather_code"][i]),
                "temperature": hourly["temperature_2m"][i],
                "precipitation_probability": hourly["precipitation_probability"][i],
                "precipitation": hourly["precipitation"][i],
                "wind_speed": hourly["wind_speed_10m"][i],
            }
            for i, hour in enumerate(hourly["time"])
        ]
    except (KeyError, IndexError, TypeError) as err:
        raise SourceError(ERROR, f"unexpected Open-Meteo body: {err!r}") from err
    chosen = hours if by_hour else rows
    for row in chosen:
        local = datetime.fromisoformat(row["datetime"])
        row["datetime"] = local.replace(tzinfo=zone).isoformat()
    now = body.get("current")
    current = (
        {
            "condition": WMO_TO_CONDITION.get(int(now.get("weather_code") or -1)),
            "temperature": now.get("temperature_2m"),
            "apparent_temperature": now.get("apparent_temperature"),
            "humidity": now.get("relative_humidity_2m"),
            "wind_speed": now.get("wind_speed_10m"),
        }
        if isinstance(now, dict)
        else {}
    )
    return chosen, units, current


async def async_facts(
    hass: HomeAssistant,
    sources: Sources,
    slots: Mapping[str, str],
    options: Mapping[str, Any],
) -> Facts:
    """Facts for a weather question with slots `when` (and `location`).

    A named place goes to the HA weather entity of that name, else Open-Meteo
    (geocoded); otherwise the weather entity of `options` (else the first weather
    entity), else Open-Meteo at HA's home coordinates. `when` "now" starts with the
    current conditions (the entity's state, or Open-Meteo's `current` block), then
    the rest of today. Raises `SourceError` (`weather_unavailable`,
    `weather_place_unknown`).
    """
    entity_id: str | None = options.get(CONF_WEATHER_ENTITY)
    now = dt_util.now()
    wanted = periods(slots.get("when", "now"), now)
    place = slots.get("location")
    entity_id = entity_id or next(
        iter(sorted(hass.states.async_entity_ids("weather"))), None
    )
    hourly = slots.get("when", "now") in ("now", "tonight")
    if place and (named := _entity_named(hass, place)):
        entity_id, place = named, None
    current: dict[str, Any] = {}
    if place:
        found = await async_geocode(hass, sources, place)
        rows, units, current = await async_open_meteo_rows(
            hass, sources, found["latitude"], found["longitude"], hourly
        )
        name = ", ".join(
            part
            for k in ("name", "admin1", "country")
            if (part := source_text(found.get(k) or ""))
        )
    elif entity_id:
        rows, units = await async_entity_rows(hass, entity_id, hourly)
        current = _entity_current(hass, entity_id)
        state = hass.states.get(entity_id)
        name = state.name if state else entity_id
    else:
        rows, units, current = await async_open_meteo_rows(
            hass, sources, hass.config.latitude, hass.config.longitude, hourly
        )
        name = hass.config.location_name
    lines = [line for period in wanted if (line := summarize(period, rows, units))]
    if slots.get("when", "now") == "now" and (line := current_line(current, units)):
        lines.insert(0, line)
    if not lines:
        raise SourceError(ERROR, f"no forecast rows for {[p.label for p in wanted]}")
    return _facts(name, lines, units)

"""Airport facts: FAA NAS status and the current METAR, in plain words.

FAA delays, ground stops, ground delay programs and closures; the METAR from
aviationweather.gov decoded into flight category, wind, visibility and ceiling.

FAA: `GET https://nasstatus.faa.gov/api/airport-status-information`, XML per
AirportStatus.dtd v2.2 (tests/fixtures/faa/). METAR: `GET
https://aviationweather.gov/api/data/metar?ids=KJFK&format=json` (JSON list; HTTP 204
for an unknown station); the raw report is decoded with the `metar` library.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
import xml.etree.ElementTree as ET

from metar.Metar import Metar, ParserError

from homeassistant.core import HomeAssistant

from ..const import CONF_HOME_AIRPORT
from . import Facts, SourceError, Sources, airports
from .text import source_text

ERROR = "flights_unavailable"
FAA_TTL = 120.0
METAR_TTL = 600.0

FLIGHT_CATEGORIES = {
    "VFR": "VFR (good visibility and high clouds)",
    "MVFR": "marginal VFR",
    "IFR": "IFR (low clouds or poor visibility)",
    "LIFR": "low IFR (very low clouds or fog)",
}


_DIRECTIONS = ("Arrival", "Departure")
_TRENDS = ("increasing", "decreasing", "steady")


def _text(element: ET.Element, tag: str) -> str:
    return source_text(element.findtext(tag) or "", "not given")


def faa_lines(xml: str, code: str) -> list[str]:
    """Facts lines for IATA/FAA `code` from the NAS status XML.

    Raises `SourceError` when `xml` is not the FAA's document.
    """
    try:
        root = ET.fromstring(xml)  # the FAA's own document, no DTD fetched
    except ET.ParseError as err:
        raise SourceError(ERROR, f"FAA status is not XML: {err}") from err
    if root.tag != "AIRPORT_STATUS_INFORMATION":
        raise SourceError(ERROR, f"FAA status root is {root.tag}")
    lines = []
    for program in root.iter("Ground_Delay"):
        if _text(program, "ARPT") == code:
            lines.append(
                f"Ground delay program: average {_text(program, 'Avg')}, up to "
                f"{_text(program, 'Max')}, because of {_text(program, 'Reason')}."
            )
    for stop in root.iter("Program"):
        if _text(stop, "ARPT") == code:
            lines.append(
                f"Ground stop until {_text(stop, 'End_Time')}, because of "
                f"{_text(stop, 'Reason')}."
            )
    for delay in root.iter("Delay"):
        if _text(delay, "ARPT") != code:
            continue
        for kind in delay.iter("Arrival_Departure"):
            direction = kind.get("Type", "")
            if direction not in _DIRECTIONS:
                direction = "Arrival/departure"
            trend = (kind.findtext("Trend") or "").strip().lower()
            lines.append(
                f"{direction} delays of "
                f"{_text(kind, 'Min')} to {_text(kind, 'Max')}, "
                f"{trend if trend in _TRENDS else 'steady'} "
                f"(reason: {_text(delay, 'Reason')})."
            )
    for closure in root.iter("Airport"):
        if _text(closure, "ARPT") == code:
            lines.append(
                f"A closure notice (NOTAM) applies from {_text(closure, 'Start')} "
                f"until {_text(closure, 'Reopen')}."
            )
    return lines or ["No delays or ground stops reported by the FAA."]


def metar_line(report: dict[str, Any]) -> str:
    """One facts line from an aviationweather.gov METAR JSON object.

    Raises `SourceError` when `rawOb` is missing or cannot be decoded.
    """
    raw = str(report.get("rawOb", "")).removeprefix("METAR ").removeprefix("SPECI ")
    try:
        observation = Metar(raw, strict=False)
    except ParserError as err:
        raise SourceError(ERROR, f"undecodable METAR {raw!r}: {err}") from err
    parts = []
    if category := report.get("fltCat"):
        parts.append(FLIGHT_CATEGORIES.get(str(category), str(category)))
    if observation.wind_speed is not None:
        parts.append(f"wind {observation.wind('KT')}")
    if observation.vis is not None:
        parts.append(f"visibility {observation.visibility('SM')}")
    ceilings = [
        int(height.value("FT"))
        for cover, height, _ in observation.sky
        if cover in ("BKN", "OVC", "VV") and height is not None
    ]
    if ceilings:
        parts.append(f"ceiling {min(ceilings)} feet")
    elif observation.sky:
        parts.append(observation.sky_conditions())
    if observation.temp is not None:
        parts.append(f"temperature {round(observation.temp.value('C'))} °C")
    if not parts:
        raise SourceError(ERROR, f"nothing decoded from {raw!r}")
    station = source_text(report.get("icaoId", ""), "the airport")
    return f"Weather at {station} now: {', '.join(parts)}."


async def async_facts(
    hass: HomeAssistant,
    sources: Sources,
    slots: Mapping[str, str],
    options: Mapping[str, Any],
) -> Facts:
    """Facts for slot `airport` (an IATA code), else the home airport of `options`.

    FAA status, then the METAR. One of the two may fail (its line says so).
    Raises `SourceError`: `airport_unknown` (no airport named and none set),
    `flights_unavailable` (both failed).
    """
    code = slots.get("airport") or str(options.get(CONF_HOME_AIRPORT) or "")
    if not code:
        raise SourceError("airport_unknown", "no airport named, none set")
    index = airports.load()
    title = index.titles.get(code, code)
    lines: list[str] = []
    failures = 0
    try:
        xml = await sources.async_fetch(
            hass,
            f"{sources.urls.faa}/api/airport-status-information",
            None,
            FAA_TTL,
            ERROR,
            as_json=False,
        )
        lines.extend(faa_lines(xml, code))
    except SourceError:
        failures += 1
        lines.append("The FAA flight-status service could not be reached.")
    icao = index.icao.get(code)
    try:
        if icao is None:
            raise SourceError(ERROR, f"no ICAO code for {code}")
        body = await sources.async_fetch(
            hass,
            f"{sources.urls.aviationweather}/api/data/metar",
            {"ids": icao, "format": "json"},
            METAR_TTL,
            ERROR,
        )
        if not isinstance(body, list) or not body or not isinstance(body[0], dict):
            raise SourceError(ERROR, f"no METAR for {icao}")
        lines.append(metar_line(body[0]))
    except SourceError:
        failures += 1
    if failures == 2:
        raise SourceError(ERROR, f"FAA and METAR both failed for {code}")
    text = f"{title} ({code}):\n" + "\n".join(lines)
    return Facts(text=text, sentence=f"At {title}: " + " ".join(lines))

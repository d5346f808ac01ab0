"""Sports facts from ESPN's public site API: live score, final result, next game.

Endpoints (unofficial, keyless; shapes in tests/fixtures/espn/):
`/apis/site/v2/sports/{sport}/{league}/scoreboard`, `.../teams` (the list),
`.../teams/{id}` (with `nextEvent`) and `.../teams/{id}/schedule`. Scoreboards are
cached 30 s while a game in them is live, 5 min otherwise; team lists a day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..const import CONF_FAVOURITE_TEAMS
from . import Facts, SourceError, Sources
from .teams import LEAGUES, TEAM_LEAGUES
from .text import source_text

ERROR = "sports_unavailable"
LIVE_TTL = 30.0
IDLE_TTL = 300.0
TEAMS_TTL = 24 * 3600.0
MAX_LEAGUE_GAMES = 6

# Months of each league's season (regular season and playoffs), to tell a shared
# nickname apart ("giants": NFL in November, MLB in June).
SEASON_MONTHS: dict[str, frozenset[int]] = {
    "nfl": frozenset((9, 10, 11, 12, 1, 2)),
    "nba": frozenset((10, 11, 12, 1, 2, 3, 4, 5, 6)),
    "mlb": frozenset(range(3, 11)),
    "nhl": frozenset((10, 11, 12, 1, 2, 3, 4, 5, 6)),
    "mls": frozenset(range(2, 13)),
    "wnba": frozenset(range(5, 11)),
    "ncaaf": frozenset((8, 9, 10, 11, 12, 1)),
    "ncaab": frozenset((11, 12, 1, 2, 3, 4)),
    **dict.fromkeys(
        ("epl", "laliga", "bundesliga", "seriea", "ligue1", "ucl"),
        frozenset((8, 9, 10, 11, 12, 1, 2, 3, 4, 5)),
    ),
}


def spoken_time(value: str) -> str:
    """Say ESPN's UTC `date` ("2022-09-11T17:00Z") in local time.

    Returns e.g. "Sunday, September 11 at 1:00 PM" (HA's time zone).
    """
    parsed = dt_util.parse_datetime(value.replace("Z", "+00:00"))
    if parsed is None:
        raise SourceError(ERROR, f"bad date {value!r}")
    local = dt_util.as_local(parsed)
    hour = local.strftime("%I").lstrip("0")
    return f"{local:%A}, {local:%B} {local.day} at {hour}:{local:%M} {local:%p}"


def _score(competitor: dict[str, Any]) -> str:
    score = competitor.get("score")
    if isinstance(score, dict):
        score = score.get("displayValue")
    return str(score) if score is not None else "?"


def _name(competitor: dict[str, Any]) -> str:
    return source_text(competitor["team"]["displayName"], "the other team")


def describe_event(event: dict[str, Any], team_id: str | None = None) -> str:
    """One facts line for an ESPN event: live score, final score or kickoff.

    With `team_id`, the line is told from that team's side (home/away, won/lost).
    Raises KeyError / IndexError / TypeError on a malformed event.
    """
    competition = event["competitions"][0]
    status = (competition.get("status") or event["status"])["type"]
    competitors = sorted(competition["competitors"], key=lambda c: c["homeAway"])
    away, home = competitors[0], competitors[-1]
    if status["state"] == "pre":
        if team_id is None:
            return f"{_name(away)} at {_name(home)}, {spoken_time(event['date'])}."
        ours = home if str(home["team"]["id"]) == team_id else away
        other = away if ours is home else home
        side = "at home against" if ours is home else "away at"
        return f"Next game: {spoken_time(event['date'])}, {side} {_name(other)}."
    scores = f"{_name(away)} {_score(away)}, {_name(home)} {_score(home)}"
    if status["state"] == "in":
        detail = source_text(status.get("detail"), "in progress")
        return f"Live: {scores} ({detail})."
    line = f"Final, {spoken_time(event['date'])}: {scores}."
    winner = next((c for c in competitors if c.get("winner")), None)
    if team_id is not None and winner is not None:
        won = str(winner["team"]["id"]) == team_id
        ours = home if str(home["team"]["id"]) == team_id else away
        nickname = source_text(ours["team"].get("name"), _name(ours))
        line += f" The {nickname} {'won' if won else 'lost'}."
    return line


def _base(sources: Sources, league: str) -> str:
    return f"{sources.urls.espn}/apis/site/v2/sports/{LEAGUES[league]}"


async def _async_scoreboard(
    hass: HomeAssistant, sources: Sources, league: str
) -> list[dict[str, Any]]:
    url = f"{_base(sources, league)}/scoreboard"
    body = await sources.async_fetch(hass, url, None, _scoreboard_ttl, ERROR)
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise SourceError(ERROR, f"{url}: no events list")
    return list(events)


def _scoreboard_ttl(body: Any) -> float:
    """Poll fast only while a game on the scoreboard is live."""
    events = body.get("events") if isinstance(body, dict) else None
    live = any(
        isinstance(e, dict) and e.get("status", {}).get("type", {}).get("state") == "in"
        for e in events or ()
    )
    return LIVE_TTL if live else IDLE_TTL


async def _async_teams(
    hass: HomeAssistant, sources: Sources, league: str
) -> list[dict[str, Any]]:
    url = f"{_base(sources, league)}/teams"
    body = await sources.async_fetch(hass, url, None, TEAMS_TTL, ERROR)
    try:
        return [t["team"] for t in body["sports"][0]["leagues"][0]["teams"]]
    except (KeyError, IndexError, TypeError) as err:
        raise SourceError(ERROR, f"{url}: unexpected teams body {err!r}") from err


async def _async_find_team(
    hass: HomeAssistant, sources: Sources, league: str, name: str
) -> dict[str, Any] | None:
    """Find team `name` in the league's scoreboard, else in its team list."""
    for event in await _async_scoreboard(hass, sources, league):
        for competitor in event.get("competitions", [{}])[0].get("competitors", ()):
            if _matches(competitor.get("team", {}), name):
                return dict(competitor["team"])
    return next(
        (t for t in await _async_teams(hass, sources, league) if _matches(t, name)),
        None,
    )


def _matches(team: dict[str, Any], name: str) -> bool:
    """Tell whether the spoken `name` is ESPN's `team` (nickname, city, full name)."""
    full = str(team.get("displayName", "")).lower()
    return name in {
        full,
        str(team.get("name", "")).lower(),
        str(team.get("nickname", "")).lower(),
        str(team.get("shortDisplayName", "")).lower(),
        str(team.get("abbreviation", "")).lower(),
    } or full.endswith(f" {name}")


def candidate_leagues(
    name: str, league: str | None, favourites: list[str], now: datetime
) -> list[str]:
    """Leagues to look `name` up in, most likely first.

    The spoken league wins; then a favourite team naming it with a league word
    ("nfl giants"); then leagues in season at `now` before the others.
    """
    leagues = list(TEAM_LEAGUES.get(name, ()))
    if league and (league in leagues or not leagues):
        return [league]
    for favourite in favourites:
        words = favourite.lower().split()
        if name in favourite.lower() and words and words[0] in leagues:
            return [words[0]]
    return sorted(leagues, key=lambda lg: now.month not in SEASON_MONTHS.get(lg, ()))


async def async_facts(
    hass: HomeAssistant,
    sources: Sources,
    slots: Mapping[str, str],
    options: Mapping[str, Any],
) -> Facts:
    """Facts for a sports question with slots `team` and/or `league`.

    A team: its live or final game today, else its last result, and its next game.
    A league alone: its scoreboard (live games first). The favourite teams of
    `options` decide between leagues that share a nickname. Raises `SourceError`
    (`sports_unavailable`, `sports_team_unknown`).
    """
    favourites = [str(t) for t in options.get(CONF_FAVOURITE_TEAMS, [])]
    now = dt_util.now()
    name = slots.get("team")
    if name is None:
        league = slots.get("league", "nfl")
        events = await _async_scoreboard(hass, sources, league)
        order = {"in": 0, "post": 1, "pre": 2}
        events.sort(key=lambda e: order.get(e["status"]["type"]["state"], 3))
        try:
            lines = [describe_event(e) for e in events[:MAX_LEAGUE_GAMES]]
        except (KeyError, IndexError, TypeError) as err:
            raise SourceError(ERROR, f"unexpected event {err!r}") from err
        if not lines:
            lines = ["No games on the scoreboard."]
        text = f"{league.upper()} scoreboard:\n" + "\n".join(lines)
        return Facts(text=text, sentence=" ".join(lines))
    for league in candidate_leagues(name, slots.get("league"), favourites, now):
        if team := await _async_find_team(hass, sources, league, name):
            break
    else:
        raise SourceError("sports_team_unknown", f"no team {name!r}", team=name)
    try:
        lines = await _async_team_lines(hass, sources, league, str(team["id"]))
    except (KeyError, IndexError, TypeError) as err:
        raise SourceError(ERROR, f"unexpected event {err!r}") from err
    title = source_text(team["displayName"], name)
    text = f"{title} ({league.upper()}):\n" + "\n".join(lines)
    return Facts(text=text, sentence=" ".join(lines))


async def _async_team_lines(
    hass: HomeAssistant, sources: Sources, league: str, team_id: str
) -> list[str]:
    """Today's live game; else the last result and the next game.

    The last result (team schedule) and the next game (team page) are each
    optional: a failed fetch only leaves its line out. Raises `SourceError` when
    nothing at all could be said.
    """
    base = _base(sources, league)
    today = next(
        (
            e
            for e in await _async_scoreboard(hass, sources, league)
            if any(
                str(c["team"]["id"]) == team_id
                for c in e["competitions"][0]["competitors"]
            )
        ),
        None,
    )
    state = today["status"]["type"]["state"] if today else None
    if today is not None and state == "in":
        return [describe_event(today, team_id)]
    lines = []
    failure: SourceError | None = None
    if today is not None and state == "post":
        lines.append(describe_event(today, team_id))
    else:
        try:
            body = await sources.async_fetch(
                hass, f"{base}/teams/{team_id}/schedule", None, IDLE_TTL, ERROR
            )
        except SourceError as err:
            failure = err
        else:
            played = [
                e
                for e in body.get("events") or ()
                if e["competitions"][0]["status"]["type"].get("completed")
            ]
            if played:
                lines.append(describe_event(played[-1], team_id))
    if today is not None and state == "pre":
        lines.append(describe_event(today, team_id))
        return lines
    try:
        body = await sources.async_fetch(
            hass, f"{base}/teams/{team_id}", None, IDLE_TTL, ERROR
        )
    except SourceError as err:
        failure = err
    else:
        upcoming = [
            e
            for e in body["team"].get("nextEvent") or ()
            if e["competitions"][0]["status"]["type"]["state"] == "pre"
        ]
        if upcoming:
            lines.append(describe_event(upcoming[0], team_id))
    if not lines:
        if failure is not None:
            raise failure
        lines.append("No recent or upcoming games found.")
    return lines

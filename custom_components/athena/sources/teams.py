"""Team names the router recognises, by ESPN league (sport/league path of its site API).

Nicknames as people say them; a name in several leagues (giants, cardinals, rangers,
kings, jets, panthers, spurs, wolves...) is listed in each, and `COMMON_WORDS` holds
names that are also ordinary words or places ("heat", "liverpool"), which count as a
team only next to a sports word. `ALIASES` maps a short or misheard name to the
team's own name, the one ESPN's team records carry ("sixers" -> "76ers", "red socks"
-> "red sox"), so the sports source can find it.
"""

from __future__ import annotations

from typing import Final


def _names(joined: str) -> tuple[str, ...]:
    return tuple(joined.split("|"))


LEAGUES: Final[dict[str, str]] = {
    "nfl": "football/nfl",
    "nba": "basketball/nba",
    "mlb": "baseball/mlb",
    "nhl": "hockey/nhl",
    "mls": "soccer/usa.1",
    "wnba": "basketball/wnba",
    "ncaaf": "football/college-football",
    "ncaab": "basketball/mens-college-basketball",
    "epl": "soccer/eng.1",
    "laliga": "soccer/esp.1",
    "bundesliga": "soccer/ger.1",
    "seriea": "soccer/ita.1",
    "ligue1": "soccer/fra.1",
    "ucl": "soccer/uefa.champions",
}

LEAGUE_WORDS: Final[dict[str, str]] = {
    "nfl": "nfl",
    "football": "nfl",
    "nba": "nba",
    "basketball": "nba",
    "mlb": "mlb",
    "baseball": "mlb",
    "nhl": "nhl",
    "hockey": "nhl",
    "mls": "mls",
    "wnba": "wnba",
    "college football": "ncaaf",
    "ncaa football": "ncaaf",
    "college basketball": "ncaab",
    "march madness": "ncaab",
    "premier league": "epl",
    "epl": "epl",
    "la liga": "laliga",
    "bundesliga": "bundesliga",
    "serie a": "seriea",
    "ligue 1": "ligue1",
    "champions league": "ucl",
    "soccer": "mls",
    # The games people name instead of the league.
    "super bowl": "nfl",
    "world series": "mlb",
    "stanley cup": "nhl",
    "nba finals": "nba",
}

TEAMS: Final[dict[str, tuple[str, ...]]] = {
    "nfl": _names(
        "cardinals|falcons|ravens|bills|panthers|bears|bengals|browns|"
        "cowboys|broncos|lions|packers|texans|colts|jaguars|jags|chiefs|"
        "raiders|chargers|rams|dolphins|vikings|patriots|pats|saints|giants|"
        "jets|eagles|steelers|49ers|niners|seahawks|buccaneers|bucs|titans|"
        "commanders"
    ),
    "nba": _names(
        "hawks|celtics|nets|hornets|bulls|cavaliers|cavs|mavericks|mavs|"
        "nuggets|pistons|warriors|rockets|pacers|clippers|lakers|grizzlies|"
        "heat|bucks|timberwolves|wolves|pelicans|knicks|thunder|magic|76ers|"
        "sixers|suns|trail blazers|blazers|kings|spurs|raptors|jazz|wizards"
    ),
    "mlb": _names(
        "diamondbacks|dbacks|braves|orioles|os|o's|red sox|cubs|white sox|reds|"
        "guardians|rockies|tigers|astros|royals|angels|dodgers|marlins|"
        "brewers|twins|mets|yankees|athletics|a's|phillies|pirates|padres|"
        "giants|mariners|cardinals|rays|rangers|blue jays|jays|nationals|"
        "nats"
    ),
    "nhl": _names(
        "ducks|bruins|sabres|flames|hurricanes|canes|blackhawks|avalanche|"
        "avs|blue jackets|stars|red wings|oilers|panthers|kings|wild|"
        "canadiens|habs|predators|preds|devils|islanders|rangers|senators|"
        "sens|flyers|penguins|pens|sharks|kraken|blues|lightning|bolts|"
        "maple leafs|leafs|canucks|golden knights|capitals|caps|jets|"
        "mammoth"
    ),
    "wnba": _names(
        "dream|sky|sun|wings|fever|aces|sparks|lynx|liberty|mercury|storm|"
        "mystics|valkyries"
    ),
    "mls": _names(
        "atlanta united|austin fc|charlotte fc|chicago fire|fc cincinnati|"
        "rapids|columbus crew|crew|fc dallas|dc united|d.c. united|dynamo|"
        "galaxy|lafc|inter miami|minnesota united|loons|cf montreal|"
        "nashville sc|revolution|revs|nycfc|new york city fc|red bulls|"
        "orlando city|philadelphia union|union|timbers|real salt lake|rsl|"
        "earthquakes|quakes|sounders|sporting kc|sporting kansas city|"
        "st. louis city|whitecaps|toronto fc|san diego fc"
    ),
    "epl": _names(
        "arsenal|aston villa|villa|bournemouth|brentford|brighton|chelsea|"
        "crystal palace|everton|fulham|liverpool|manchester city|man city|"
        "manchester united|man united|man utd|newcastle|nottingham forest|"
        "tottenham|spurs|west ham|wolves|leeds|burnley|sunderland"
    ),
    "laliga": _names(
        "real madrid|barcelona|barca|atletico madrid|atletico|atleti|sevilla|"
        "real sociedad|villarreal|athletic bilbao|athletic club|valencia|"
        "real betis|betis|girona|celta vigo|osasuna|getafe|mallorca"
    ),
    "bundesliga": _names(
        "bayern munich|bayern|dortmund|borussia dortmund|leverkusen|"
        "bayer leverkusen|rb leipzig|leipzig|eintracht frankfurt|stuttgart|"
        "wolfsburg|freiburg|union berlin|werder bremen|gladbach|hoffenheim"
    ),
    "seriea": _names(
        "juventus|juve|inter milan|ac milan|napoli|roma|lazio|atalanta|"
        "fiorentina|bologna|torino"
    ),
    "ligue1": _names("psg|paris saint-germain|marseille|lyon|monaco|lille"),
}

# Short and misheard names -> the team's own name (a key of `TEAM_LEAGUES`). Only
# names of one team: "spurs" and "wolves" name two and stay as said.
ALIASES: Final[dict[str, str]] = {
    "niners": "49ers",
    "forty niners": "49ers",
    "sixers": "76ers",
    "seventy sixers": "76ers",
    "seventy-sixers": "76ers",
    "red socks": "red sox",
    "white socks": "white sox",
    "os": "orioles",
    "o's": "orioles",
    "a's": "athletics",
    "pats": "patriots",
    "jags": "jaguars",
    "bucs": "buccaneers",
    "cavs": "cavaliers",
    "mavs": "mavericks",
    "blazers": "trail blazers",
    "dbacks": "diamondbacks",
    "d-backs": "diamondbacks",
    "jays": "blue jays",
    "nats": "nationals",
    "canes": "hurricanes",
    "avs": "avalanche",
    "habs": "canadiens",
    "preds": "predators",
    "sens": "senators",
    "pens": "penguins",
    "bolts": "lightning",
    "caps": "capitals",
    "leafs": "maple leafs",
    "loons": "minnesota united",
    "revs": "revolution",
    "rsl": "real salt lake",
    "quakes": "earthquakes",
    "d.c. united": "dc united",
    "sporting kc": "sporting kansas city",
    "villa": "aston villa",
    "man city": "manchester city",
    "man united": "manchester united",
    "man utd": "manchester united",
    "man u": "manchester united",
    "barca": "barcelona",
    "atletico": "atletico madrid",
    "atleti": "atletico madrid",
    "betis": "real betis",
    "athletic club": "athletic bilbao",
    "bayern": "bayern munich",
    "borussia dortmund": "dortmund",
    "bayer leverkusen": "leverkusen",
    "leipzig": "rb leipzig",
    "juve": "juventus",
    "paris saint-germain": "psg",
}

COMMON_WORDS: Final[frozenset[str]] = frozenset(
    _names(
        "heat|magic|thunder|jazz|sun|storm|wild|stars|lightning|union|crew|"
        "sky|dream|liberty|mercury|aces|wings|fever|sparks|kings|nets|suns|"
        "bulls|bucks|rockets|wizards|warriors|hawks|reds|twins|giants|"
        "rangers|royals|tigers|angels|pirates|cardinals|jets|panthers|lions|"
        "bears|eagles|saints|chiefs|titans|dolphins|ducks|sharks|flames|"
        "penguins|blues|predators|senators|capitals|devils|islanders|flyers|"
        "avalanche|hurricanes|galaxy|dynamo|revolution|bolts|caps|pens|os|"
        "rays|villa|roma|brewers|mariners|athletics|nationals|blazers|bills|"
        "rams|colts|browns|packers|texans|raiders|chargers|vikings|patriots|"
        "quakes|wolves|spurs|lynx|mystics|"
        # Places: "the weather in liverpool" is not about the club.
        "liverpool|chelsea|everton|fulham|brighton|brentford|bournemouth|"
        "newcastle|leeds|burnley|sunderland|tottenham|barcelona|valencia|sevilla|"
        "villarreal|girona|getafe|mallorca|osasuna|dortmund|leverkusen|leipzig|"
        "stuttgart|wolfsburg|freiburg|hoffenheim|napoli|roma|bologna|torino|"
        "marseille|lyon|monaco|lille|o's|a's"
    )
)

# Which league a team name belongs to, for each name (several for shared names),
# and for each alias its team's leagues.
TEAM_LEAGUES: Final[dict[str, tuple[str, ...]]] = {
    name: tuple(league for league, names in TEAMS.items() if name in names)
    for names in TEAMS.values()
    for name in names
}
TEAM_LEAGUES.update({alias: TEAM_LEAGUES[name] for alias, name in ALIASES.items()})

"""Which source answers which route category: the one table a new source adds a row to.

The agent, the compound requests and the classification model's labels all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..router import Category
from . import FactSource, airport, sports, weather

SOURCES: Mapping[Category, FactSource] = MappingProxyType(
    {
        Category.WEATHER: weather.async_facts,
        Category.SPORTS: sports.async_facts,
        Category.AIRPORT: airport.async_facts,
    }
)

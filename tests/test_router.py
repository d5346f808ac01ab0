"""The router: categories and slots, pure and fast (no Home Assistant needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from custom_components.athena.router import Category, route

DEV_SET = Path(__file__).parents[2] / "shared" / "eval" / "dev_utterances.yaml"


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

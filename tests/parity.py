"""Parity with Home Assistant's own agent: a test home, sentences, outcomes.

The home: HA's demo devices of many domains in five areas on two floors, the
shopping list, a voice device in the kitchen that handles timers; every entity
exposed to Assist. The sentences: sampled with hassil's sampler (`hassil.sample`)
from the English templates of the `home-assistant-intents` package, with the home's
names (of the domains a template requires, as in HA's own test sentences), areas and
floors and a few values for each number and free-text slot, for every intent HA
registers in this home. The outcome of a sentence: the response
type and error code, the targets (success and failed results, matched states), the
service calls made, the timer events and the shopping-list changes. Each sentence
runs from the same starting state (one of two state variants) for each agent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
import random
from typing import Any

from hassil import Intents
from hassil.intents import TextSlotList
from hassil.sample import sample_sentence
from home_assistant_intents import get_intents

from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.components.intent.const import TIMER_DATA
from homeassistant.components.intent.timers import TimerEventType, TimerInfo
from homeassistant.const import Platform
from homeassistant.core import Context, Event, HomeAssistant, State, callback
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
    intent,
)
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import async_setup_demo

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.CLIMATE,
    Platform.COVER,
    Platform.FAN,
    Platform.HUMIDIFIER,
    Platform.LIGHT,
    Platform.LOCK,
    Platform.MEDIA_PLAYER,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.VACUUM,
    Platform.VALVE,
    Platform.WEATHER,
]
AREAS = {  # area -> (floor, words in an entity's name that put it there)
    "Kitchen": ("Ground Floor", ("kitchen", "ceiling", "oven")),
    "Living Room": ("Ground Floor", ("living", "tv", "lounge", "walkman", "group")),
    "Bedroom": ("Upstairs", ("bed", "office rgbw", "bedroom")),
    "Garage": ("Ground Floor", ("garage", "hall window", "kitchen window")),
    "Office": ("Upstairs", ("office", "pwm", "decorative")),
}
# Values for the number and free-text slots (the templates' ranges and wildcards).
SLOT_VALUES = {
    "temperature": ["72", "21.5"],
    "position": ["50"],
    "fan_speed": ["40"],
    "brightness": ["30", "75"],
    "color_temperature": ["4000"],
    "volume": ["35"],
    "volume_step_up": ["10"],
    "volume_step_down": ["10"],
    "timer_seconds": ["30"],
    "timer_minutes": ["5", "ten"],
    "timer_hours": ["1"],
    "message": ["dinner is ready"],
    "search_query": ["jazz"],
    "zone": ["home"],
    "timer_name": ["pizza"],
    "timer_command": ["turn off the kitchen lights"],
    "shopping_list_item": ["milk"],
    "todo_list_item": ["eggs"],
}
PER_TEMPLATE = 400  # expansions read per template before sampling from them


@dataclass
class Home:
    """The test home: the kitchen voice device, the timer events it got, the
    shopping list, and the starting state of each variant (entity id -> state)."""

    device_id: str
    shopping: MockConfigEntry
    timer_events: list[tuple[str, str | None]] = field(default_factory=list)
    variants: list[dict[str, State]] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """What a turn did and said, without its words."""

    response_type: str
    error_code: str | None
    success: tuple[tuple[str, str], ...]
    failed: tuple[tuple[str, str], ...]
    matched: tuple[str, ...]
    calls: tuple[tuple[str, str, tuple[str, ...]], ...]
    timers: tuple[tuple[str, str | None], ...]
    lists: tuple[str, ...]

    @property
    def answered(self) -> bool:
        """Whether the agent answered (not an error)."""
        return self.response_type != intent.IntentResponseType.ERROR.value


async def async_build_home(hass: HomeAssistant) -> Home:
    """Set up the test home (demo devices, shopping list, timers, areas, floors)."""
    for component in ("homeassistant", "conversation", "intent"):
        assert await async_setup_component(hass, component, {})
    await async_setup_demo(hass, PLATFORMS)
    shopping = MockConfigEntry(domain="shopping_list")
    shopping.add_to_hass(hass)
    assert await hass.config_entries.async_setup(shopping.entry_id)
    await hass.async_block_till_done()

    floors = fr.async_get(hass)
    areas = ar.async_get(hass)
    entities = er.async_get(hass)
    area_ids: dict[str, str] = {}
    for name, (floor_name, _) in AREAS.items():
        floor = floors.async_get_floor_by_name(floor_name) or floors.async_create(
            floor_name
        )
        area = areas.async_get_area_by_name(name) or areas.async_create(name)
        areas.async_update(area.id, floor_id=floor.floor_id)
        area_ids[name] = area.id
    for entry in list(entities.entities.values()):
        state = hass.states.get(entry.entity_id)
        label = (state.name if state else entry.entity_id).lower()
        area_id = next(
            (
                area_ids[name]
                for name, (_, words) in AREAS.items()
                if any(word in label for word in words)
            ),
            None,
        )
        if area_id is None:
            continue
        if entry.device_id:  # an entity named by its device takes the device's area
            dr.async_get(hass).async_update_device(entry.device_id, area_id=area_id)
        else:
            entities.async_update_entity(entry.entity_id, area_id=area_id)
    for state in hass.states.async_all():
        async_expose_entity(hass, conversation.DOMAIN, state.entity_id, True)

    voice = MockConfigEntry(domain="test_voice")
    voice.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=voice.entry_id,
        identifiers={("test_voice", "kitchen")},
        name="Kitchen voice",
    )
    dr.async_get(hass).async_update_device(device.id, area_id=area_ids["Kitchen"])
    home = Home(device_id=device.id, shopping=shopping)

    def on_timer(event_type: TimerEventType, timer: TimerInfo) -> None:
        home.timer_events.append((event_type.value, timer.name))

    hass.data[TIMER_DATA].register_handler(device.id, on_timer)
    await hass.async_block_till_done()
    return home


def _names(hass: HomeAssistant) -> dict[str, TextSlotList]:
    """The home's slot lists: entity names, areas, floors, and the set values."""
    names = sorted({s.name for s in hass.states.async_all() if s.name})
    lists: dict[str, TextSlotList] = {
        "name": TextSlotList.from_strings(names, allow_template=False),
        "area": TextSlotList.from_strings(
            [a.name for a in ar.async_get(hass).async_list_areas()],
            allow_template=False,
        ),
        "floor": TextSlotList.from_strings(
            [f.name for f in fr.async_get(hass).async_list_floors()],
            allow_template=False,
        ),
    }
    for slot, values in SLOT_VALUES.items():
        lists[slot] = TextSlotList.from_strings(values, allow_template=False)
    return lists


def _names_in(hass: HomeAssistant, context: dict[str, Any]) -> dict[str, TextSlotList]:
    """The `name` list for a template that requires entities of some domains (as
    HA's own test sentences name a lock in "unlock the {name}"); {} for any."""
    domains = context.get("domain")
    if not domains:
        return {}
    domains = [domains] if isinstance(domains, str) else list(domains)
    names = sorted(
        {s.name for s in hass.states.async_all() if s.domain in domains and s.name}
    )
    return {"name": TextSlotList.from_strings(names, allow_template=False)}


def sentences(hass: HomeAssistant, per_intent: int, seed: int = 7) -> list[str]:
    """Sample about `per_intent` sentences for every intent HA registers here.

    Each intent's templates share its quota; each template's expansions (the first
    `PER_TEMPLATE`) are sampled with a seeded random choice. Returns unique
    sentences, intents in name order.
    """
    intents = Intents.from_dict(get_intents("en"))
    registered = {handler.intent_type for handler in intent.async_get(hass)}
    slot_lists = {**intents.slot_lists, **_names(hass)}
    chooser = random.Random(seed)
    chosen: list[str] = []
    for name in sorted(intents.intents):
        if name not in registered:
            continue
        templates = [
            (data, template)
            for data in intents.intents[name].data
            for template in data.sentences
        ]
        share = max(1, -(-per_intent // len(templates)))
        for data, template in templates:
            rules = {**intents.expansion_rules, **data.expansion_rules}
            lists = {**slot_lists, **_names_in(hass, data.requires_context)}
            expansions = list(
                islice(sample_sentence(template, lists, rules, "en"), PER_TEMPLATE)
            )
            chooser.shuffle(expansions)
            chosen.extend(expansions[:share])
    return list(dict.fromkeys(chosen))


async def async_set_variant(hass: HomeAssistant, variant: int) -> None:
    """Put the home into state variant 0 (on, open, playing, unlocked) or 1 (off,
    closed, paused, locked) through HA's services."""
    on = variant == 0
    calls = [
        ("light", "turn_on" if on else "turn_off", "all"),
        ("switch", "turn_on" if on else "turn_off", "all"),
        ("fan", "turn_on" if on else "turn_off", "all"),
        ("cover", "open_cover" if on else "close_cover", "all"),
        ("lock", "unlock" if on else "lock", "all"),
        ("media_player", "media_play" if on else "media_pause", "all"),
        ("valve", "open_valve" if on else "close_valve", "all"),
    ]
    for domain, service, target in calls:
        await hass.services.async_call(
            domain, service, {"entity_id": target}, blocking=True
        )
    await hass.async_block_till_done()


def snapshot(hass: HomeAssistant) -> dict[str, State]:
    """The state machine now (entity id -> state)."""
    return {s.entity_id: s for s in hass.states.async_all()}


def restore(hass: HomeAssistant, home: Home, states: dict[str, State]) -> None:
    """Write `states` back into the state machine, cancel every timer, and leave
    one item (Milk, not done) on the shopping list."""
    for state in states.values():
        hass.states.async_set(
            state.entity_id, state.state, state.attributes, force_update=True
        )
    manager = hass.data[TIMER_DATA]
    for timer_id in list(manager.timers):
        manager.cancel_timer(timer_id)
    home.shopping.runtime_data.items = [
        {"name": "Milk", "id": "milk", "complete": False}
    ]


def _record(
    hass: HomeAssistant,
) -> tuple[list[tuple[str, str, tuple[str, ...]]], list[str], Callable[[], None]]:
    calls: list[tuple[str, str, tuple[str, ...]]] = []
    lists: list[str] = []

    @callback
    def on_call(event: Event[Any]) -> None:
        data = event.data.get("service_data") or {}
        ids = data.get("entity_id") or ()
        ids = (ids,) if isinstance(ids, str) else tuple(sorted(ids))
        calls.append((event.data["domain"], event.data["service"], ids))

    @callback
    def on_list(event: Event[Any]) -> None:
        item = event.data.get("item") or {}
        lists.append(
            f"{event.data.get('action')}:{item.get('name')}:{item.get('complete')}"
        )

    removers = [
        hass.bus.async_listen("call_service", on_call),
        hass.bus.async_listen("shopping_list_updated", on_list),
    ]

    def stop() -> None:
        for remove in removers:
            remove()

    return calls, lists, stop


async def async_outcome(
    hass: HomeAssistant, home: Home, agent_id: str, text: str, variant: int
) -> Outcome:
    """Run `text` on `agent_id` from state `variant`; return its outcome."""
    restore(hass, home, home.variants[variant])
    home.timer_events.clear()
    calls, lists, stop = _record(hass)
    try:
        result = await conversation.async_converse(
            hass,
            text,
            None,
            Context(),
            "en",
            agent_id=agent_id,
            device_id=home.device_id,
        )
        await hass.async_block_till_done()
    finally:
        stop()
    response = result.response
    return Outcome(
        response_type=response.response_type.value,
        error_code=response.error_code.value if response.error_code else None,
        success=tuple(sorted((r.type.value, r.id) for r in response.success_results)),
        failed=tuple(sorted((r.type.value, r.id) for r in response.failed_results)),
        matched=tuple(sorted(s.entity_id for s in response.matched_states)),
        calls=tuple(sorted(calls)),
        timers=tuple(home.timer_events),
        lists=tuple(lists),
    )


@dataclass
class Comparison:
    """Sentences the default agent answered, and those Athena answered otherwise."""

    answered: int = 0
    different: list[tuple[str, int, Outcome, Outcome]] = field(default_factory=list)

    @property
    def parity(self) -> float:
        """The share of answered sentences with the same outcome (1.0 when none)."""
        if not self.answered:
            return 1.0
        return 1 - len(self.different) / self.answered


async def async_compare(
    hass: HomeAssistant, home: Home, athena: str, texts: list[str]
) -> Comparison:
    """Run every text on both agents in both state variants; compare outcomes."""
    comparison = Comparison()
    for variant in range(len(home.variants)):
        for text in texts:
            theirs = await async_outcome(
                hass, home, conversation.HOME_ASSISTANT_AGENT, text, variant
            )
            if not theirs.answered:
                continue
            comparison.answered += 1
            ours = await async_outcome(hass, home, athena, text, variant)
            if ours != theirs:
                comparison.different.append((text, variant, theirs, ours))
    return comparison


async def async_prepare_variants(hass: HomeAssistant, home: Home) -> None:
    """Record the starting state of both variants."""
    for variant in (0, 1):
        await async_set_variant(hass, variant)
        home.variants.append(snapshot(hass))


def iter_differences(comparison: Comparison) -> Iterator[str]:
    """One line per differing sentence, for a failure message."""
    for text, variant, theirs, ours in comparison.different:
        yield f"[{variant}] {text!r}\n    HA:     {theirs}\n    Athena: {ours}"

"""The blueprints load with HA's blueprint machinery, become automations and run."""

from __future__ import annotations

from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest

from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.athena.const import (
    CONF_HOME_AIRPORT,
    EVENT_ANNOUNCE,
)

from .conftest import (
    agent_id,
    ask,
    forecast_rows,
    setup_athena_with_web,
    speech,
    weather_entity,
)
from .fakes import FakeOllama, FakeWeb

BLUEPRINTS = Path(__file__).parent.parent / "blueprints" / "automation" / "athena"


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config folder holding the repository's blueprints, as HACS users copy them."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints" / "automation" / "athena")
    return tmp_path


async def _automation(
    hass: HomeAssistant, blueprint: str, inputs: dict[str, Any]
) -> None:
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": blueprint,
                "alias": "under test",
                "use_blueprint": {"path": f"athena/{blueprint}", "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get("automation.under_test")
    assert state is not None
    assert state.state == "on"


@pytest.mark.parametrize(
    "name", sorted(p.name for p in BLUEPRINTS.glob("*.yaml")), ids=str
)
async def test_blueprint_loads(
    hass: HomeAssistant, config_dir: Path, name: str
) -> None:
    blueprint = await async_get_blueprints(hass).async_get_blueprint(f"athena/{name}")
    assert blueprint.domain == "automation"
    assert blueprint.inputs


async def test_door_announcement(
    hass: HomeAssistant, config_dir: Path, ollama_agent: str
) -> None:
    hass.states.async_set(
        "binary_sensor.front_door",
        "off",
        {"device_class": "door", "friendly_name": "front door"},
    )
    await _automation(
        hass,
        "announce_door.yaml",
        {"sensor": "binary_sensor.front_door", "satellite": "hallway"},
    )
    events = async_capture_events(hass, EVENT_ANNOUNCE)
    hass.states.async_set(
        "binary_sensor.front_door",
        "on",
        {"device_class": "door", "friendly_name": "front door"},
    )
    await hass.async_block_till_done()
    assert [e.data for e in events] == [
        {"message": "The front door was opened.", "satellite": "hallway"}
    ]


@pytest.mark.parametrize("expected_lingering_timers", [True])  # the 07:00 trigger
async def test_morning_briefing(
    hass: HomeAssistant,
    config_dir: Path,
    fake_ollama: FakeOllama,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2021-11-24T14:59:00+00:00")  # 06:59 in HA's test zone
    await weather_entity(
        hass, forecast_rows("get_forecasts-response-open_meteo-daily.json")
    )
    await setup_athena_with_web(
        hass, fake_ollama, fake_web, options={CONF_HOME_AIRPORT: "SFO"}
    )
    await fake_ollama.stop()  # the template answers speak the facts
    await _automation(
        hass, "morning_briefing.yaml", {"time": "07:00:00", "team": "ravens"}
    )
    events = async_capture_events(hass, EVENT_ANNOUNCE)
    freezer.move_to("2021-11-24T15:00:00+00:00")
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    (event,) = events
    message = event.data["message"]
    assert message.startswith("Good morning. In Home: Today (Wednesday, November 24)")
    assert "Baltimore Ravens" in message
    assert "Ground delay program" in message


async def test_voice_scene(
    hass: HomeAssistant, config_dir: Path, ollama_agent: str, fake_ollama: FakeOllama
) -> None:
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"bedtime": {}}}
    )
    assert await async_setup_component(
        hass,
        "scene",
        {"scene": [{"name": "Goodnight", "entities": {"input_boolean.bedtime": "on"}}]},
    )
    await _automation(hass, "voice_scene.yaml", {"scene": "scene.goodnight"})
    result = await ask(hass, "goodnight", agent_id(hass))
    await hass.async_block_till_done()
    assert speech(result) == "Good night. Sleep well."
    assert hass.states.get("input_boolean.bedtime").state == "on"
    assert fake_ollama.chat_requests() == []

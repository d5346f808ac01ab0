"""Repair issues, each raised by its real condition and cleared when it goes away."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.athena.const import (
    BACKEND_OLLAMA,
    CONF_KEEP_ALIVE,
    CONF_NUM_CTX,
    DOMAIN,
)

from .conftest import agent_id, ask, make_entry, setup_entry
from .fakes import FakeOllama


def _issues(hass: HomeAssistant, kind: str) -> list[ir.IssueEntry]:
    return [
        issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue_id.startswith(kind)
    ]


async def _tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: float
) -> None:
    freezer.tick(timedelta(minutes=minutes))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_keep_alive_zero(hass: HomeAssistant, fake_ollama: FakeOllama) -> None:
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama, agent={CONF_KEEP_ALIVE: 0})
    await setup_entry(hass, entry)
    (issue,) = _issues(hass, "keep_alive_zero")
    assert issue.translation_placeholders == {"agent": "Athena"}
    subentry = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_KEEP_ALIVE: 600}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _issues(hass, "keep_alive_zero") == []


async def test_model_partly_on_cpu(
    hass: HomeAssistant, fake_ollama: FakeOllama, freezer: FrozenDateTimeFactory
) -> None:
    fake_ollama.vram_share = 0.6
    await setup_entry(hass, make_entry(BACKEND_OLLAMA, ollama=fake_ollama))
    await hass.async_block_till_done(wait_background_tasks=True)
    (issue,) = _issues(hass, "model_on_cpu")
    assert issue.translation_placeholders["gpu_percent"] == "60"
    fake_ollama.vram_share = 1.0
    await _tick(hass, freezer, 1)
    assert _issues(hass, "model_on_cpu") == []


async def test_prompt_that_fills_num_ctx(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    await setup_entry(
        hass,
        make_entry(BACKEND_OLLAMA, ollama=fake_ollama, agent={CONF_NUM_CTX: 512}),
    )
    agent = agent_id(hass)
    await ask(hass, "summarize this: " + "a. " * 600, agent)  # ~1,200 tokens
    (issue,) = _issues(hass, "prompt_truncated")
    assert issue.translation_placeholders["num_ctx"] == "512"
    await ask(hass, "who wrote hamlet", agent)  # a new conversation, short
    assert _issues(hass, "prompt_truncated") == []


async def test_backend_unreachable_for_ten_minutes(
    hass: HomeAssistant, fake_ollama: FakeOllama, freezer: FrozenDateTimeFactory
) -> None:
    await setup_entry(hass, make_entry(BACKEND_OLLAMA, ollama=fake_ollama))
    agent = agent_id(hass)
    await fake_ollama.stop()
    await ask(hass, "who wrote hamlet", agent)
    await _tick(hass, freezer, 5)
    assert _issues(hass, "backend_unreachable") == []
    await _tick(hass, freezer, 6)
    (issue,) = _issues(hass, "backend_unreachable")
    assert issue.translation_placeholders["minutes"] == "11"
    await fake_ollama.restart()
    await _tick(hass, freezer, 1)
    assert _issues(hass, "backend_unreachable") == []
    assert (
        hass.states.get("binary_sensor.athena_backend_ollama_reachable").state == "on"
    )

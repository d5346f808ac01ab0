"""Auto with a dead first backend, and the lanes: a dead server costs one timeout,
not one per turn; waiting for a lane is not waiting for the first token.

Request counts tell whether a turn waited for a backend, never the wall clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.athena.const import (
    BACKEND_AUTO,
    BACKEND_OLLAMA,
    CONF_FIRST_TOKEN_TIMEOUT,
    CONF_MODEL,
    CONF_TOTAL_TIMEOUT,
    LANE_WAIT_TIMEOUT,
)

from .conftest import agent_id, ask, make_entry, setup_entry, speech
from .fakes import FakeOllama, FakeOpenAI

ANSWER = "William Shakespeare wrote it."
FAST = {CONF_FIRST_TOKEN_TIMEOUT: 0.5, CONF_TOTAL_TIMEOUT: 5.0}
OPENAI_REACHABLE = "binary_sensor.athena_backend_openai_compatible_reachable"


async def _auto(
    hass: HomeAssistant,
    ollama: FakeOllama,
    openai: FakeOpenAI,
    agent: dict[str, object] | None = None,
) -> str:
    await setup_entry(
        hass, make_entry(BACKEND_AUTO, ollama=ollama, openai=openai, agent=agent)
    )
    await hass.async_block_till_done(wait_background_tasks=True)  # warm-ups done
    return agent_id(hass)


async def _until(condition: Callable[[], object]) -> None:
    """Let the loop run until `condition()` holds (at most 5 s)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def _health_check(hass: HomeAssistant, minutes: int) -> None:
    """Run the minute's health check as if `minutes` had passed."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=minutes))
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_auto_skips_a_hanging_backend_until_it_answers(
    hass: HomeAssistant, fake_openai: FakeOpenAI, fake_ollama: FakeOllama
) -> None:
    agent = await _auto(hass, fake_ollama, fake_openai, FAST)
    fake_openai.fault = "hang"
    for turn in range(5):
        assert speech(await ask(hass, "who wrote hamlet", agent)) == ANSWER
        # Turn 1 waited for the first token and fell back; turns 2..5 went
        # straight to Ollama: the hanging server saw no request from them.
        assert len(fake_openai.chat_requests()) == 1
        assert len(fake_ollama.chat_requests()) == turn + 1
    assert hass.states.get(OPENAI_REACHABLE).state == "off"

    # Still hanging at the next health check: its probe fails, still skipped.
    await _health_check(hass, 1)
    assert hass.states.get(OPENAI_REACHABLE).state == "off"
    assert speech(await ask(hass, "who wrote hamlet", agent)) == ANSWER
    assert len(fake_openai.chat_requests()) == 1

    # It recovers: the probe finds it answering and the next turn uses it.
    fake_openai.fault = None
    await _health_check(hass, 2)
    assert hass.states.get(OPENAI_REACHABLE).state == "on"
    assert speech(await ask(hass, "who wrote hamlet", agent)) == ANSWER
    assert len(fake_openai.chat_requests()) == 2
    assert len(fake_ollama.chat_requests()) == 6


async def test_auto_falls_back_when_the_model_is_not_served(
    hass: HomeAssistant, fake_openai: FakeOpenAI, fake_ollama: FakeOllama
) -> None:
    agent = await _auto(hass, fake_ollama, fake_openai, {CONF_MODEL: "not-served"})
    assert speech(await ask(hass, "who wrote hamlet", agent)) == ANSWER  # after a 404
    assert hass.states.get(OPENAI_REACHABLE).state == "off"
    assert hass.states.get("sensor.athena_backend_openai_compatible_errors").state == (
        "1"
    )
    seen = len(fake_openai.authorization)  # every request the server received
    assert speech(await ask(hass, "who wrote hamlet", agent)) == ANSWER
    assert len(fake_openai.authorization) == seen
    assert len(fake_ollama.chat_requests()) == 2


async def test_lane_wait_does_not_count_toward_the_first_token(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    """One lane, three turns at once, each answered in 0.3 s: the third waits
    0.6 s for its lane, more than the 0.5 s first-token timeout, and is answered.
    """
    await setup_entry(hass, make_entry(BACKEND_OLLAMA, ollama=fake_ollama, agent=FAST))
    await hass.async_block_till_done(wait_background_tasks=True)
    agent = agent_id(hass)
    fake_ollama.delay = 0.3
    results = await asyncio.gather(
        *(ask(hass, "who wrote hamlet", agent) for _ in range(3))
    )
    assert [speech(r) for r in results] == [ANSWER] * 3
    assert len(fake_ollama.chat_requests()) == 3


async def test_busy_lanes_give_up_after_the_lane_wait(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    """One lane held by a turn the server does not answer: the next turn gives up
    after the lane wait with its own message, without sending its request.
    """
    entry: MockConfigEntry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    agent = agent_id(hass)
    lanes = entry.runtime_data.backends[0].lanes
    fake_ollama.fault = "hang"
    holding = hass.async_create_task(ask(hass, "who wrote hamlet", agent))
    await _until(fake_ollama.chat_requests)
    waiting = hass.async_create_task(ask(hass, "and when", agent))
    await _until(lambda: lanes._waiters)  # the second turn waits for the lane

    # Past the lane wait, well before the first turn's 30 s first-token timeout.
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=LANE_WAIT_TIMEOUT + 1)
    )
    assert speech(await waiting) == (
        "Sorry, the language model is busy with other requests. "
        "Please try again in a moment."
    )
    assert len(fake_ollama.chat_requests()) == 1
    assert not holding.done()

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    assert speech(await holding) == "Sorry, the language model took too long to answer."

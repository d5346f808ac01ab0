"""Robustness figures, each from its own measurement in a real Home Assistant.

Fuzz (`fuzz_counts`): the utterances of tests/test_fuzz.py (hypothesis, deterministic:
random unicode with surrogates, bidi and control characters, 20-part chains, huge
words, real requests with noise) through `conversation.async_converse` on both
backends, device tools on and off, on HA's demo devices: how many ran, and how many
raised or came back without a spoken string.

Auto with a dead first backend (`auto_dead_backend_p50`): the OpenAI-compatible
fake hangs (never sends a first token), the fake Ollama answers after 0.1 s. Turn 1
waits for the first-token timeout (2 s here) and falls back; turns 2..5 should skip
the dead server during its cool-down and cost about Ollama's 0.1 s. Time per turn =
`conversation.async_converse` wall time.

Run: .venv/bin/python -m bench.robustness
Last line: fuzz_n=<n> fuzz_exceptions=<n> auto_dead_backend_turn_p50_s=<s>
"""

from __future__ import annotations

import statistics
import time

import pytest

from homeassistant.core import HomeAssistant

from bench.harness import record, run
from custom_components.athena.const import (
    BACKEND_AUTO,
    BACKEND_OLLAMA,
    BACKEND_OPENAI,
    CONF_FIRST_TOKEN_TIMEOUT,
    CONF_TOTAL_TIMEOUT,
)
from tests.conftest import *  # noqa: F403  (fixtures)
from tests.conftest import agent_id, ask, make_entry, setup_entry, speech
from tests.fakes import FakeOllama, FakeOpenAI, FakeWeb
from tests.test_fuzz import PER_CASE, async_fuzzed_agent, fuzz

TURNS = 5
FIRST_TOKEN_TIMEOUT = 2.0  # seconds
OLLAMA_DELAY = 0.1  # seconds before the fake Ollama's first token


async def test_auto_dead_backend(
    hass: HomeAssistant, fake_openai: FakeOpenAI, fake_ollama: FakeOllama
) -> None:
    entry = make_entry(
        BACKEND_AUTO,
        ollama=fake_ollama,
        openai=fake_openai,
        agent={CONF_FIRST_TOKEN_TIMEOUT: FIRST_TOKEN_TIMEOUT, CONF_TOTAL_TIMEOUT: 10},
    )
    await setup_entry(hass, entry)
    await hass.async_block_till_done(wait_background_tasks=True)  # warm-ups done
    agent = agent_id(hass)
    fake_openai.fault = "hang"
    fake_ollama.delay = OLLAMA_DELAY
    times = []
    for _ in range(TURNS):
        start = time.perf_counter()
        result = await ask(hass, "who wrote hamlet", agent)
        times.append(time.perf_counter() - start)
        assert speech(result) == "William Shakespeare wrote it."
    record(
        auto_dead_backend_turn_s=times,
        auto_dead_backend_openai_requests=len(fake_openai.chat_requests()),
    )


@pytest.mark.parametrize("expected_lingering_timers", [True])  # the demo's sun
@pytest.mark.parametrize("tools", [False, True])
@pytest.mark.parametrize("backend", [BACKEND_OLLAMA, BACKEND_OPENAI])
async def test_fuzz(
    hass: HomeAssistant,
    demo: None,
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    fake_web: FakeWeb,
    backend: str,
    tools: bool,
) -> None:
    agent = await async_fuzzed_agent(
        hass, backend, tools, fake_ollama, fake_openai, fake_web
    )
    failures = await fuzz(hass, agent, PER_CASE)
    record(**{f"fuzz_{backend}_{tools}": [PER_CASE, [f for _, f in failures]]})


def fuzz_counts() -> tuple[int, int]:
    """(utterances run, exceptions or unspoken replies) over the four fuzz cases."""
    results = run(f"{__file__}::test_fuzz")
    cases = [v for k, v in results.items() if k.startswith("fuzz_")]
    for _, failures in cases:
        for failure in failures[:5]:
            print(f"fuzz failure: {failure}")
    return sum(c for c, _ in cases), sum(len(f) for _, f in cases)


def auto_dead_backend_p50() -> float:
    """Median seconds of turns 2..5 with Auto's first backend hanging (see above)."""
    results = run(f"{__file__}::test_auto_dead_backend")
    times = results["auto_dead_backend_turn_s"]
    print(
        f"Auto, first backend hanging: turn 1 {times[0]:.2f} s "
        f"(first-token timeout {FIRST_TOKEN_TIMEOUT:g} s), turns 2..{TURNS} "
        + ", ".join(f"{t:.3f}" for t in times[1:])
        + f" s; requests to the hanging server: "
        f"{results['auto_dead_backend_openai_requests']}"
    )
    return statistics.median(times[1:])


def main() -> None:
    """Run each measurement and print its figure, then all of them on one line."""
    count, failed = fuzz_counts()
    print(f"fuzz: {count} utterances, {failed} exceptions or unspoken replies")
    auto = auto_dead_backend_p50()
    print(
        f"fuzz_n={count} fuzz_exceptions={failed} "
        f"auto_dead_backend_turn_p50_s={auto:.3f}"
    )


if __name__ == "__main__":
    main()

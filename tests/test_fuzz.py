"""Fuzz: thousands of odd utterances through `async_converse`, never an exception.

Utterances are generated with hypothesis (deterministic: `derandomize`), from random
unicode (lone surrogates, bidi and control characters included), huge words, long
"… and …" chains, and the router's own kinds of request with noise around them. They
run on both backends, with the device tools on and off, on HA's demo devices with the
public sources replayed on loopback.
"""

from __future__ import annotations

from hypothesis import Phase, given, settings, strategies as st
import pytest

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent

from custom_components.athena.const import (
    BACKEND_OLLAMA,
    BACKEND_OPENAI,
    CONF_CONTROL_TOOLS,
)

from .conftest import agent_id, ask, make_entry, setup_entry, use_web
from .fakes import FakeOllama, FakeOpenAI, FakeWeb

# `demo` loads HA's sun integration, whose entity polls on a timer.
pytestmark = pytest.mark.parametrize("expected_lingering_timers", [True])

PER_CASE = 2500  # x 4 cases = 10,000 utterances

REQUESTS = (
    "turn on the kitchen lights",
    "what's the weather tomorrow",
    "how did the ravens do",
    "any delays at bwi",
    "who wrote hamlet",
    "what time is it",
    "hello",
    "lock the front door",
    "is the garage door open",
    "set the thermostat to 70",
)
ODD = st.sampled_from(
    [
        "\x00",
        "\x1b[31m",
        "\u202e",
        "\u2066",
        "\ud800",
        "\udfff",
        "\ufeff",
        "\u200b",
        "🙂",
        "ﷺ",
        "\n",
        "\t",
        "'",
        '"',
        "{",
        "}",
        "%s",
        "{limit}",
    ]
)


def _utterances() -> st.SearchStrategy[str]:
    """Random text, odd characters around real requests, chains and huge words."""
    request = st.sampled_from(REQUESTS)
    noisy = st.builds(
        lambda a, r, b: f"{a}{r}{b}",
        st.lists(ODD, max_size=3).map("".join),
        request,
        st.lists(ODD, max_size=3).map("".join),
    )
    chain = st.lists(request, min_size=2, max_size=20).map(" and ".join)
    huge = st.integers(1900, 2100).map(lambda n: "a" * n)
    return st.one_of(
        st.text(max_size=60),
        st.text(st.characters(codec=None, categories=None), max_size=40),
        noisy,
        chain,
        huge,
        st.just(""),
    )


def _generate(count: int) -> list[str]:
    texts: list[str] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
    )
    @given(_utterances())
    def collect(text: str) -> None:
        texts.append(text)

    collect()
    return texts


async def async_fuzzed_agent(
    hass: HomeAssistant,
    backend: str,
    tools: bool,
    ollama: FakeOllama,
    openai: FakeOpenAI,
    web: FakeWeb,
) -> str:
    """Set up Athena on `backend`'s fake, device tools `tools`; the agent id."""
    entry = make_entry(
        backend,
        ollama=ollama if backend == BACKEND_OLLAMA else None,
        openai=openai if backend == BACKEND_OPENAI else None,
        agent={CONF_CONTROL_TOOLS: tools},
    )
    await setup_entry(hass, entry)
    use_web(entry, web)
    return agent_id(hass)


async def fuzz(hass: HomeAssistant, agent: str, count: int) -> list[tuple[str, str]]:
    """Send `count` generated utterances to `agent`; return the failures.

    A failure is `(text, what went wrong)`: an exception, or a result without a
    plain speech string or with an unexpected response type.
    """
    failures: list[tuple[str, str]] = []
    for text in _generate(count):
        try:
            result = await ask(hass, text, agent)
        except Exception as err:  # counting every escape is the point
            failures.append((text, repr(err)))
            continue
        kind = result.response.response_type
        spoken = result.response.speech.get("plain", {}).get("speech")
        if kind not in _ANSWERED or not isinstance(spoken, str):
            failures.append((text, f"{kind} {spoken!r}"))
    return failures


_ANSWERED = (
    intent.IntentResponseType.ACTION_DONE,
    intent.IntentResponseType.QUERY_ANSWER,
    intent.IntentResponseType.ERROR,
)


@pytest.mark.parametrize("tools", [False, True], ids=["no_tools", "tools"])
@pytest.mark.parametrize("backend", [BACKEND_OLLAMA, BACKEND_OPENAI])
async def test_fuzzed_utterances_never_raise(
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
    assert await fuzz(hass, agent, PER_CASE) == []

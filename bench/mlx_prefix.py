"""Prompt-cache reuse on a real mlx_lm.server over a 4-turn conversation.

Athena (MLX backend type) talks to mlx_lm 0.32.2 on CPU serving SmolLM2-135M in MLX
format (tests/real_llm.py). For each turn the server's own `usage`: `prompt_tokens`
and `prompt_tokens_details.cached_tokens` (tokens it took from its prompt cache),
as Athena recorded them in the backend's statistics.

Run: .venv/bin/python -m bench.mlx_prefix
Last line: mlx_cached_share_from_turn2=<min over turns 2..4 of cached / prompt tokens>
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from homeassistant.core import HomeAssistant

from bench.harness import record, run
from custom_components.athena.const import BACKEND_OPENAI, CONF_MAX_TOKENS
from tests.conftest import *  # noqa: F403  (fixtures)
from tests.conftest import agent_id, ask, make_entry, setup_entry, use_web
from tests.fakes import FakeOpenAI, FakeWeb
from tests.real_llm import MLX_MODEL, mlx_server

TURNS = [
    "who wrote hamlet",
    "when was it first performed",
    "tell me a joke",
    "what's a good name for a cat",
]


@pytest.fixture
def mlx_url(socket_enabled: None) -> Iterator[str]:
    """The real server."""
    with mlx_server() as url:
        yield url


async def test_mlx_prefix(hass: HomeAssistant, mlx_url: str, fake_web: FakeWeb) -> None:
    server = FakeOpenAI(models=[MLX_MODEL], url=mlx_url)  # not started: make_entry
    # reads only .url and .models
    entry = make_entry(BACKEND_OPENAI, openai=server, agent={CONF_MAX_TOKENS: 24})
    await setup_entry(hass, entry)
    use_web(entry, fake_web)  # a turn that asks a source stays on loopback
    (backend,) = entry.runtime_data.backends
    agent = agent_id(hass)
    conversation_id = None
    rows = []
    for text in TURNS:
        result = await ask(hass, text, agent, conversation_id)
        conversation_id = result.conversation_id
        last = backend.stats.last
        rows.append([last.prompt_tokens, last.cached_tokens, last.completion_tokens])
    record(rows=rows)


if __name__ == "__main__":
    results = run(__file__)
    print("turn  prompt_tokens  cached_tokens  share  completion_tokens")
    shares = []
    for turn, (prompt, cached, completion) in enumerate(results["rows"], start=1):
        share = cached / prompt
        shares.append(share)
        print(f"{turn:4d} {prompt:14d} {cached:14d} {share:6.3f} {completion:18d}")
    print(f"mlx_cached_share_from_turn2={min(shares[1:]):.3f}")

"""How much of each turn's prompt the backend can reuse from its KV cache.

A 6-turn conversation through Athena against the fake Ollama server. For each turn
from the second on: the share of the turn's rendered prompt (chat template applied,
see tests/fakes.py) that is a byte-identical prefix of the previous turn's prompt,
and the fake's simulated `prompt_eval_count` (tokens beyond the common prefix).

Run: .venv/bin/python -m bench.kv_reuse
Also printed: the share of the previous prompt that the new one keeps unchanged
(1.0 = nothing the engine cached was invalidated).
Last line: min_prefix_reuse_from_turn2=<min over turns 2..6 of the share of the prompt>
"""

from __future__ import annotations

import itertools
import os

from homeassistant.core import HomeAssistant

from bench.harness import record, run
from custom_components.athena.const import BACKEND_OLLAMA
from tests.conftest import *  # noqa: F403  (fixtures)
from tests.conftest import agent_id, ask, make_entry, setup_entry, use_web
from tests.fakes import FakeOllama, FakeWeb

TURNS = [
    "who wrote hamlet",
    "when was it first performed",
    "tell me a joke",
    "explain how a heat pump works",
    "how many ounces are in a cup",
    "what's a good name for a cat",
]


async def test_kv_reuse(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    replies = iter(
        [
            "William Shakespeare wrote Hamlet.",
            "Around 1600, at the Globe Theatre.",
            "Why did the scarecrow win an award? He was outstanding in his field.",
            "It moves heat from outside air into your home using a refrigerant.",
            "There are 8 fluid ounces in a cup.",
            "How about Whiskers?",
        ]
    )
    fake_ollama.reply = lambda body: next(replies)
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    use_web(entry, fake_web)  # a turn that asks a source stays on loopback
    agent = agent_id(hass)
    conversation_id = None
    for text in TURNS:
        result = await ask(hass, text, agent, conversation_id)
        conversation_id = result.conversation_id
    requests = fake_ollama.chat_requests()
    prompts = [r.prompt for r in requests]
    common = [
        len(os.path.commonprefix([prev, cur]))  # noqa: RUF071 (strings, not paths)
        for prev, cur in itertools.pairwise(prompts)
    ]
    record(
        chars=[len(p) for p in prompts],
        shares=[c / len(cur) for c, cur in zip(common, prompts[1:], strict=True)],
        kept=[c / len(prev) for c, prev in zip(common, prompts, strict=False)],
        prompt_tokens=[r.prompt_tokens for r in requests],
        evaluated=[r.evaluated_tokens for r in requests],
    )


if __name__ == "__main__":
    results = run(__file__)
    print("turn  chars  share_of_prompt  previous_kept  tokens  prompt_eval_count")
    rows = zip(
        results["chars"],
        [None, *results["shares"]],
        [None, *results["kept"]],
        results["prompt_tokens"],
        results["evaluated"],
        strict=True,
    )
    for i, (chars, share, keep, toks, evaluated) in enumerate(rows, start=1):
        a = "-" if share is None else f"{share:.3f}"
        b = "-" if keep is None else f"{keep:.3f}"
        print(f"{i:4d} {chars:6d} {a:>16} {b:>14} {toks:7d} {evaluated:18d}")
    print(f"min_previous_prompt_kept_from_turn2={min(results['kept']):.3f}")
    print(f"min_prefix_reuse_from_turn2={min(results['shares']):.3f}")

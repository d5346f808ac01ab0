"""Time to first token for "hello" on a real llama.cpp server (SmolLM2-135M, CPU):
Athena's prompt vs the prompt HA core's `ollama` agent sends, in the same run.

Both prompts are captured from a real Home Assistant test instance (demo devices
exposed, Athena with "let the model answer greetings" on) via the fake Ollama server,
then sent alternately to llama.cpp's OpenAI-compatible endpoint, ROUNDS times each.
Core's tool schemas are rendered into its system message (as a chat template
would), so the server evaluates them as it would for a tool-capable model.

Run: .venv/bin/python -m bench.llm_ttft
Last line: ttft_ratio_core_prompt_over_athena=<median core TTFT / median Athena TTFT>
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from homeassistant.core import HomeAssistant

from bench.core_ollama import setup_core_ollama
from bench.harness import record, run
from custom_components.athena.const import BACKEND_OLLAMA, CONF_LLM_GREETINGS
from tests.conftest import *  # noqa: F403  (fixtures)
from tests.conftest import agent_id, ask, make_entry, setup_entry, use_web
from tests.fakes import FakeOllama, FakeWeb
from tests.real_llm import MODEL_ALIAS, llama_server

# `demo` loads HA's sun integration, whose entity polls on a timer.
pytestmark = pytest.mark.parametrize("expected_lingering_timers", [True])
ROUNDS = 5


async def test_capture_prompts(
    hass: HomeAssistant, demo: None, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    entry = make_entry(
        BACKEND_OLLAMA, ollama=fake_ollama, agent={CONF_LLM_GREETINGS: True}
    )
    await setup_entry(hass, entry)
    use_web(entry, fake_web)  # a turn that asks a source stays on loopback
    await ask(hass, "hello", agent_id(hass))
    athena = fake_ollama.chat_requests()[-1].body
    core_agent = await setup_core_ollama(hass, fake_ollama.url)
    await ask(hass, "hello", core_agent)
    core = fake_ollama.chat_requests()[-1].body
    record(athena=athena["messages"], core=core["messages"], tools=core["tools"])


def openai_messages(messages: list[dict[str, Any]], tools: Any) -> list[dict]:
    """Plain role/content messages; tool schemas appended to the system message."""
    out = [{"role": m["role"], "content": m.get("content") or ""} for m in messages]
    if tools:
        out[0]["content"] += "\n\nTools:\n" + json.dumps(tools)
    return out


def time_to_first_token(url: str, messages: list[dict]) -> float:
    """Stream one chat completion; seconds until the first content delta."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    body = json.dumps(
        {"model": MODEL_ALIAS, "messages": messages, "max_tokens": 8, "stream": True}
    )
    start = time.perf_counter()
    connection.request(
        "POST", "/v1/chat/completions", body, {"Content-Type": "application/json"}
    )
    response = connection.getresponse()
    first = None
    for raw in response:
        line = raw.decode().strip()
        if first is None and line.startswith("data: {"):
            delta = json.loads(line[6:])["choices"][0]["delta"]
            if delta.get("content"):
                first = time.perf_counter() - start
    connection.close()
    if first is None:
        raise RuntimeError("the server sent no content")
    return first


if __name__ == "__main__":
    prompts = run(__file__)
    athena = openai_messages(prompts["athena"], None)
    core = openai_messages(prompts["core"], prompts["tools"])
    chars = {
        n: sum(len(m["content"]) for m in p)
        for n, p in (("athena", athena), ("core", core))
    }
    times: dict[str, list[float]] = {"athena": [], "core": []}
    with llama_server("--n_ctx", "8192") as url:
        time_to_first_token(url, [{"role": "user", "content": "hi"}])  # load
        for _ in range(ROUNDS):
            times["athena"].append(time_to_first_token(url, athena))
            times["core"].append(time_to_first_token(url, core))
    for name, values in times.items():
        print(
            f"{name:7} prompt={chars[name]:6d} chars  "
            f"ttft median={statistics.median(values) * 1000:7.1f} ms  "
            f"all={[round(v * 1000) for v in values]}"
        )
    ratio = statistics.median(times["core"]) / statistics.median(times["athena"])
    print(f"ttft_ratio_core_prompt_over_athena={ratio:.1f}")

"""Fast-path latency: text -> reply through `conversation.async_converse` for the
control sentences of the dev set, Athena vs HA's default agent in the same instance
(demo devices; Athena's backend is the fake Ollama server and is never called).

Only sentences HA's default agent handles are timed (the others are not fast-path
for either agent). Each sentence runs ROUNDS times per agent, the agents alternating.

Run: .venv/bin/python -m bench.fast_path [DEV_SET_YAML]
Last line: fast_path_p50_ratio_athena_over_default=<Athena p50 / default p50>
"""

from __future__ import annotations

import os
from pathlib import Path
import statistics
import sys
import time

import pytest
import yaml

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent

from bench.harness import ROOT, record, run
from custom_components.athena.const import BACKEND_OLLAMA
from tests.conftest import *  # noqa: F403  (fixtures)
from tests.conftest import agent_id, ask, make_entry, setup_entry, use_web
from tests.fakes import FakeOllama, FakeWeb

# `demo` loads HA's sun integration, whose entity polls on a timer.
pytestmark = pytest.mark.parametrize("expected_lingering_timers", [True])

DEV_SET = ROOT.parent / "shared" / "eval" / "dev_utterances.yaml"
ROUNDS = 30


def control_sentences(path: Path) -> list[str]:
    """The `control` utterances of a dev-set YAML file."""
    items = yaml.safe_load(path.read_text())
    return [i["text"] for i in items if i["category"] == "control"]


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


async def test_fast_path(
    hass: HomeAssistant, demo: None, fake_ollama: FakeOllama, fake_web: FakeWeb
) -> None:
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    use_web(entry, fake_web)  # a dev-set sentence that asks a source stays local
    agents = {"athena": agent_id(hass), "default": "conversation.home_assistant"}
    sentences = control_sentences(Path(os.environ["ATHENA_DEV_SET"]))
    handled = [
        text
        for text in sentences
        if (await ask(hass, text, agents["default"])).response.response_type
        is not intent.IntentResponseType.ERROR
    ]
    times: dict[str, list[float]] = {"athena": [], "default": []}
    for _ in range(ROUNDS):
        for text in handled:
            for name, agent in agents.items():
                start = time.perf_counter()
                await ask(hass, text, agent)
                times[name].append((time.perf_counter() - start) * 1000)
    assert fake_ollama.chat_requests() == []
    record(sentences=sentences, handled=handled, times=times)


if __name__ == "__main__":
    os.environ["ATHENA_DEV_SET"] = str(sys.argv[1] if len(sys.argv) > 1 else DEV_SET)
    results = run(__file__)
    print(f"timed {len(results['handled'])}/{len(results['sentences'])} sentences:")
    for text in results["handled"]:
        print(f"  {text}")
    p50 = {}
    for name, values in results["times"].items():
        p50[name] = statistics.median(values)
        print(
            f"{name:8} p50={p50[name]:.2f} ms  p95={percentile(values, 0.95):.2f} ms "
            f"(n={len(values)})"
        )
    print(
        f"fast_path_p50_ratio_athena_over_default={p50['athena'] / p50['default']:.2f}"
    )

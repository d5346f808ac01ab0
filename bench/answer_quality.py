"""Answer quality of weather, sports and airport replies on a real small model.

Every weather, sports and airport utterance of the dev set (the shared
/work/shared/eval/dev_utterances.yaml and bench/data/router_dev.yaml; compound
requests with a fact part too), each in a conversation of its own, then the
follow-up dialogues of bench/data/router_dialogues.yaml, turn by turn in one
conversation, go through the whole agent (`conversation.async_converse` in a real
Home Assistant test instance with HA's demo devices) against a real LLM server
serving SmolLM2-135M: llama.cpp (scripts/llama-server, `--n_threads 2`) and
mlx_lm.server (.venv-mlx), one after the other. The sources are the captured
responses of tests/fixtures replayed by `FakeWeb` (ESPN's NFL, MLB and MLS
scoreboards, FAA, METAR, Open-Meteo) and a weather entity with the captured
open_meteo forecast; the clock is set within them.

Each spoken reply is judged from the facts it was worded from (`TurnNote.context`)
with the agent's own rules (`completeness.check`: grounding and completeness): a
template reply counts as correct; an empty, off-topic or wrong one does not. A
turn whose source could not answer (an ESPN league not captured, a day past the
captured forecast, no airport named) has no facts: its spoken sentence is counted
apart ("source") and left out of n.

Run: .venv/bin/python -m bench.answer_quality [--llama] [--mlx]   (default: both)
Per server and category: n, share correct, share worded by the model (not the
template: `TurnNote.answered_by`), median time to the reply, the checks the
model's replies failed. Last lines, one per server:
answers_correct=<share> answers_by_model=<share> n=<n> server=<name>
`--save PATH` writes every judged turn (question, facts, raw reply, spoken reply)
as JSON.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
import json
import logging
import os
from pathlib import Path
import statistics
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
import yaml

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.helpers import chat_session

from bench.harness import record, run
from custom_components.athena.completeness import check
from custom_components.athena.const import BACKEND_OPENAI
from custom_components.athena.prompt import TurnNote
from tests.conftest import *  # noqa: F403  (fixtures)
from tests.conftest import (
    ESPN,
    agent_id,
    ask,
    forecast_from,
    make_entry,
    setup_entry,
    speech,
    use_web,
    weather_entity,
)
from tests.fakes import FakeOpenAI, FakeWeb
from tests.real_llm import MLX_MODEL, MODEL_ALIAS, llama_server, mlx_server

# `demo` loads HA's sun integration, whose entity polls on a timer.
pytestmark = pytest.mark.parametrize("expected_lingering_timers", [True])

ROOT = Path(__file__).parent.parent
DEV_SETS = (
    ROOT.parent / "shared" / "eval" / "dev_utterances.yaml",
    ROOT / "bench" / "data" / "router_dev.yaml",
)
DIALOGUES = ROOT / "bench" / "data" / "router_dialogues.yaml"
FACT_KINDS = ("weather", "sports", "airport")
NOW = "2026-10-03T15:00:00+00:00"  # Saturday 08:00 in HA's test zone
_URL_ENV = "ATHENA_BENCH_LLM_URL"
_MODEL_ENV = "ATHENA_BENCH_LLM_MODEL"
_LOGGER_NAME = "custom_components.athena.entity"


def _has_facts(case: dict[str, Any]) -> bool:
    return case["category"] in FACT_KINDS or (
        case["category"] == "multi"
        and any(p in FACT_KINDS for p in case.get("parts", ()))
    )


def conversations() -> list[list[str]]:
    """The utterances to run, one list per conversation.

    Each fact utterance of the dev sets (once) alone, then each dialogue with a
    fact turn whole. `ATHENA_BENCH_LIMIT` keeps only the first conversations.
    """
    seen: set[str] = set()
    out: list[list[str]] = []
    for path in DEV_SETS:
        if path.exists():
            for case in yaml.safe_load(path.read_text()) or ():
                if _has_facts(case) and case["text"] not in seen:
                    seen.add(case["text"])
                    out.append([case["text"]])
    if DIALOGUES.exists():
        for dialogue in yaml.safe_load(DIALOGUES.read_text()) or ():
            if any(_has_facts(turn) for turn in dialogue["turns"]):
                out.append([turn["text"] for turn in dialogue["turns"]])
    if limit := os.environ.get("ATHENA_BENCH_LIMIT"):
        out = out[: int(limit)]
    return out


class _RawReplies(logging.Handler):
    """Collects the raw model reply the agent logs when it says the template."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Reply fails"):
            self.messages.append(str(record.args[-1]) if record.args else "")


def _last_note(hass: HomeAssistant, conversation_id: str) -> TurnNote:
    with (
        chat_session.async_get_chat_session(hass, conversation_id) as session,
        conversation.async_get_chat_log(hass, session) as chat_log,
    ):
        for content in reversed(chat_log.content):
            if isinstance(content, conversation.AssistantContent) and isinstance(
                content.native, TurnNote
            ):
                return content.native
    return TurnNote()


async def test_answer_quality(
    hass: HomeAssistant,
    demo: None,
    fake_web: FakeWeb,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(NOW)
    await weather_entity(hass, forecast_from(date(2026, 10, 3)))
    fake_web.serve(
        f"{ESPN}/baseball/mlb/scoreboard", "espn/mlb-scoreboard-mixed-in-pre-post.json"
    )
    server = FakeOpenAI(models=[os.environ[_MODEL_ENV]], url=os.environ[_URL_ENV])
    entry = make_entry(BACKEND_OPENAI, openai=server)  # the agent's defaults
    await setup_entry(hass, entry)
    use_web(entry, fake_web)
    agent = agent_id(hass)
    raw = _RawReplies()
    logger = logging.getLogger(_LOGGER_NAME)
    logger.addHandler(raw)
    logger.setLevel(logging.INFO)
    turns = []
    for texts in conversations():
        conversation_id = None
        for text in texts:
            raw.messages.clear()
            # freezegun stops perf_counter and monotonic; clock_gettime still runs.
            begin = time.clock_gettime(time.CLOCK_MONOTONIC)
            result = await ask(hass, text, agent, conversation_id)
            seconds = time.clock_gettime(time.CLOCK_MONOTONIC) - begin
            conversation_id = result.conversation_id
            note = _last_note(hass, conversation_id)
            turns.append(
                {
                    "text": text,
                    "category": note.category,
                    "facts": note.context,
                    "reply": speech(result),
                    "raw": raw.messages[-1] if raw.messages else speech(result),
                    "answered_by": note.answered_by,
                    "ms": seconds * 1000,
                }
            )
    logger.removeHandler(raw)
    record(turns=turns)


def judge(turn: dict[str, Any]) -> dict[str, Any]:
    """Add `kind` (model / template / source) and `correct` to a recorded turn."""
    if turn["answered_by"] in ("template", "openai", "ollama") and turn["facts"]:
        kind = "template" if turn["answered_by"] == "template" else "model"
    else:
        kind = "source"
    reply = turn["reply"].strip()
    checked = check(turn["category"], turn["text"], reply, turn["facts"])
    correct = bool(reply) and (
        kind in ("template", "source") or checked.answer == reply
    )
    failed = check(turn["category"], turn["text"], turn["raw"], turn["facts"]).failed
    return {**turn, "kind": kind, "correct": correct, "raw_failed": failed}


def report(name: str, turns: list[dict[str, Any]]) -> str:
    """Print the table for one server; return its last line."""
    judged = [judge(t) for t in turns]
    worded = [t for t in judged if t["kind"] != "source"]
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for turn in worded:
        by_category[turn["category"]].append(turn)
    print(f"--- {name}")
    print(f"{'category':10} {'n':>4} {'correct':>8} {'by_model':>9} {'median_ms':>10}")
    for category in (*FACT_KINDS, "multi"):
        rows = by_category.get(category, [])
        if not rows:
            continue
        failed = Counter(
            f.split(":")[0]
            for t in rows
            if t["kind"] == "template"
            for f in t["raw_failed"]
        )
        print(
            f"{category:10} {len(rows):4d} "
            f"{sum(t['correct'] for t in rows) / len(rows):8.2f} "
            f"{sum(t['kind'] == 'model' for t in rows) / len(rows):9.2f} "
            f"{statistics.median(t['ms'] for t in rows):10.0f}  "
            f"template because: {dict(failed.most_common(4))}"
        )
    source = [t for t in judged if t["kind"] == "source"]
    print(f"no facts (the source's own sentence, not counted): {len(source)}")
    for turn in worded:
        if not turn["correct"]:
            print(f"WRONG: {turn['text']!r} -> {turn['reply']!r}")
    n = len(worded)
    correct = sum(t["correct"] for t in worded) / max(n, 1)
    by_model = sum(t["kind"] == "model" for t in worded) / max(n, 1)
    return (
        f"answers_correct={correct:.2f} answers_by_model={by_model:.2f} n={n} "
        f"server={name}"
    )


def _measure(url: str, model: str) -> list[dict[str, Any]]:
    os.environ[_URL_ENV] = url
    os.environ[_MODEL_ENV] = model
    return list(run(__file__)["turns"])


def _servers(args: argparse.Namespace) -> Iterator[tuple[str, Any, str]]:
    if args.llama or not args.mlx:
        yield "llama.cpp", llama_server("--n_threads", "2"), MODEL_ALIAS
    if args.mlx or not args.llama:
        yield "mlx_lm", mlx_server(), MLX_MODEL


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llama", action="store_true", help="llama.cpp only")
    parser.add_argument("--mlx", action="store_true", help="mlx_lm.server only")
    parser.add_argument("--save", type=Path, help="write the judged turns here")
    args = parser.parse_args()
    lines = []
    saved = {}
    for name, server, model in _servers(args):
        begin = time.monotonic()
        with server as url:
            turns = _measure(url, model)
        lines.append(report(name, turns))
        saved[name] = [judge(t) for t in turns]
        print(f"({name}: {len(turns)} turns in {time.monotonic() - begin:.0f} s)")
    if args.save:
        args.save.write_text(json.dumps(saved, indent=1, ensure_ascii=False))
    print("\n".join(lines))

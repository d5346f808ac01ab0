"""Router accuracy and speed on labelled utterances and follow-up dialogues.

Without arguments: on the dev set (bench/data/router_dev.yaml, or --set FILE), the
category accuracy of each category and overall (a multi must also have its parts in
order) and the slot matches of each slot; then, when bench/data/router_dialogues.yaml
exists, the accuracy of each turn of its dialogues in context (the router, then the
follow-up resolver `followup.resolve` given the previous turn's route); then the time
of one turn over 1,000 passes: `route()` of a dev-set utterance, and `route()` plus
`resolve()` of a dialogue turn.

`--predict FILE`: one JSON object per utterance of FILE (a YAML list of `{text}`):
{"text", "category", "slots", "parts"}.
`--predict-dialogues FILE`: FILE is a YAML list of dialogues, each a list of
utterances (strings, or `{turns: [{text}, ...]}`); one JSON object per utterance, in
order, routed after the earlier turns of its dialogue as the agent routes it (each
earlier turn answered on its route): {"dialogue", "text", "category", "slots", "parts"}.

Run: .venv/bin/python -m bench.router [--set FILE | --predict FILE |
     --predict-dialogues FILE]
Last line: router_p95_ms=<95th percentile of one turn's routing, ms>
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable, Iterator
import json
from pathlib import Path
import statistics
import sys
import time
from typing import Any

import yaml

from custom_components.athena.router import Route, route

DATA = Path(__file__).parent / "data"
DEV_SET = DATA / "router_dev.yaml"
DIALOGUES = DATA / "router_dialogues.yaml"
PASSES = 1000

type Resolve = Callable[[str, Route, Route | None], Route]


def _resolver() -> Resolve | None:
    """`followup.resolve`, or None (with a note) while that module does not exist."""
    try:
        from custom_components.athena.followup import resolve
    except ImportError:
        print(
            "followup.py missing: dialogue turns are routed without context",
            file=sys.stderr,
        )
        return None
    return resolve


def as_json(text: str, decision: Route) -> dict[str, Any]:
    """The `--predict` record of one utterance."""
    return {
        "text": text,
        "category": str(decision.category),
        "slots": decision.slots,
        "parts": [str(p.category) for p in decision.parts],
    }


def dialogue_texts(dialogue: list[Any] | dict[str, Any]) -> list[str]:
    """The utterances of one dialogue: plain strings or `{turns: [{text}, ...]}`."""
    turns = dialogue["turns"] if isinstance(dialogue, dict) else dialogue
    return [turn if isinstance(turn, str) else turn["text"] for turn in turns]


def converse(texts: list[str], resolve: Resolve | None) -> Iterator[Route]:
    """Route each utterance of a dialogue after the earlier ones.

    The previous route is what the agent keeps of an answered turn (its TurnNote):
    the category and slots.
    """
    previous: Route | None = None
    for text in texts:
        decision = route(text)
        if resolve is not None:
            decision = resolve(text, decision, previous)
        yield decision
        previous = Route(decision.category, slots=dict(decision.slots))


def correct(expected: dict[str, Any], got: Route) -> bool:
    """Whether `got` has the labelled category (and parts, for a multi)."""
    if str(got.category) != expected["category"]:
        return False
    parts = expected.get("parts")
    return not parts or [str(p.category) for p in got.parts] == parts


class Score:
    """Category hits per category and slot hits per slot."""

    def __init__(self) -> None:
        self.right: Counter[str] = Counter()
        self.total: Counter[str] = Counter()
        self.slot_right: Counter[str] = Counter()
        self.slot_total: Counter[str] = Counter()

    def add(self, expected: dict[str, Any], got: Route) -> bool:
        """Count one labelled utterance; return whether its category is right."""
        category = expected["category"]
        ok = correct(expected, got)
        self.total[category] += 1
        self.right[category] += ok
        for key, value in (expected.get("slots") or {}).items():
            self.slot_total[key] += 1
            found = str(got.slots.get(key, "")).lower()
            self.slot_right[key] += found == str(value).lower()
        return ok

    def report(self, title: str) -> None:
        """Print accuracy per category, slot matches per slot, and the overall."""
        print(f"{title}:")
        for category in sorted(self.total):
            right, total = self.right[category], self.total[category]
            print(f"  {category:<9} {right:>3}/{total:<3} = {right / total:.3f}")
        for key in sorted(self.slot_total):
            right, total = self.slot_right[key], self.slot_total[key]
            print(f"  slot {key:<8} {right:>3}/{total:<3} = {right / total:.3f}")
        right, total = sum(self.right.values()), sum(self.total.values())
        slots = sum(self.slot_right.values()), sum(self.slot_total.values())
        print(f"category accuracy {right}/{total} = {right / total:.3f}")
        print(f"slot matches {slots[0]}/{slots[1]}")


def _miss(expected: dict[str, Any], got: Route, prefix: str = "") -> None:
    want = {k: str(v).lower() for k, v in (expected.get("slots") or {}).items()}
    slots = {k: str(got.slots.get(k, "")).lower() for k in want}
    if not correct(expected, got) or slots != want:
        parts = [str(p.category) for p in got.parts]
        print(
            f"MISS {prefix}{expected['text']!r}: {got.category}{parts or ''} "
            f"{got.slots} != {expected['category']}{expected.get('parts') or ''} "
            f"{expected.get('slots') or {}}"
        )


def _p95(samples: list[float]) -> tuple[float, float]:
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> None:
    """Predict, or score and time."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--predict", type=Path)
    parser.add_argument("--predict-dialogues", type=Path)
    parser.add_argument("--set", type=Path, default=DEV_SET)
    args = parser.parse_args()
    if args.predict:
        for item in yaml.safe_load(args.predict.read_text()):
            print(json.dumps(as_json(item["text"], route(item["text"]))))
        return
    resolve = _resolver()
    if args.predict_dialogues:
        dialogues = yaml.safe_load(args.predict_dialogues.read_text())
        for i, dialogue in enumerate(dialogues):
            texts = dialogue_texts(dialogue)
            for text, decision in zip(texts, converse(texts, resolve), strict=True):
                print(json.dumps({"dialogue": i, **as_json(text, decision)}))
        return

    items = yaml.safe_load(args.set.read_text())
    score = Score()
    for item in items:
        got = route(item["text"])
        score.add(item, got)
        _miss(item, got)
    score.report(f"{args.set.name} ({len(items)} utterances)")

    dialogues = yaml.safe_load(DIALOGUES.read_text()) if DIALOGUES.exists() else []
    turn_texts: list[list[str]] = []
    if dialogues:
        dialogue_score = Score()
        whole = 0
        for i, dialogue in enumerate(dialogues):
            texts = dialogue_texts(dialogue)
            turn_texts.append(texts)
            oks = [
                dialogue_score.add(turn, got)
                for turn, got in zip(
                    dialogue["turns"], converse(texts, resolve), strict=True
                )
            ]
            whole += all(oks)
            for turn, got in zip(
                dialogue["turns"], converse(texts, resolve), strict=True
            ):
                _miss(turn, got, prefix=f"dialogue {i}: ")
        dialogue_score.report(f"{DIALOGUES.name} ({len(dialogues)} dialogues)")
        print(f"dialogues all right {whole}/{len(dialogues)}")

    samples = []
    texts = [item["text"] for item in items]
    for _ in range(PASSES):
        for text in texts:
            start = time.perf_counter_ns()
            route(text)
            samples.append((time.perf_counter_ns() - start) / 1e6)
    p50, p95 = _p95(samples)
    print(f"route() over {len(samples)} calls: p50={p50:.4f} ms p95={p95:.4f} ms")
    if turn_texts and resolve is not None:
        turn_samples = []
        for _ in range(PASSES // 10):
            for texts in turn_texts:
                previous: Route | None = None
                for text in texts:
                    start = time.perf_counter_ns()
                    decision = resolve(text, route(text), previous)
                    turn_samples.append((time.perf_counter_ns() - start) / 1e6)
                    previous = Route(decision.category, slots=dict(decision.slots))
        t50, t95 = _p95(turn_samples)
        print(
            f"resolve(route()) over {len(turn_samples)} dialogue turns: "
            f"p50={t50:.4f} ms p95={t95:.4f} ms"
        )
        p95 = max(p95, t95)
    print(f"router_p95_ms={p95:.4f}")


if __name__ == "__main__":
    main()

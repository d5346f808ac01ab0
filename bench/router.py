"""Router accuracy and speed on a labelled utterance set.

`--predict FILE`: one JSON object per utterance: {"text", "category", "slots", "parts"}.
Without arguments: category accuracy and slot matches on the dev set
(../shared/eval/dev_utterances.yaml, or --set FILE), then the time of one `route()`
call over 1,000 passes of that set.

Run: .venv/bin/python -m bench.router [--predict FILE] [--set FILE]
Last line: router_p95_ms=<95th percentile of one route() call, ms>
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import statistics
import time

import yaml

from custom_components.athena.router import Route, route

DEV_SET = (
    Path(__file__).parent.parent.parent / "shared" / "eval" / "dev_utterances.yaml"
)
PASSES = 1000


def as_json(text: str, decision: Route) -> dict:
    """The `--predict` record of one utterance."""
    return {
        "text": text,
        "category": str(decision.category),
        "slots": decision.slots,
        "parts": [str(p.category) for p in decision.parts],
    }


def main() -> None:
    """Predict, or score and time."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--predict", type=Path)
    parser.add_argument("--set", type=Path, default=DEV_SET)
    args = parser.parse_args()
    if args.predict:
        for item in yaml.safe_load(args.predict.read_text()):
            print(json.dumps(as_json(item["text"], route(item["text"]))))
        return
    items = yaml.safe_load(args.set.read_text())
    right = slot_right = slot_total = 0
    for item in items:
        got = route(item["text"])
        ok = str(got.category) == item["category"]
        if ok and item.get("parts"):
            ok = [str(p.category) for p in got.parts] == item["parts"]
        right += ok
        for key, value in (item.get("slots") or {}).items():
            slot_total += 1
            slot_right += str(got.slots.get(key, "")).lower() == str(value).lower()
        if not ok:
            print(f"MISS {item['text']!r}: {got.category} != {item['category']}")
    print(f"category accuracy {right}/{len(items)} = {right / len(items):.3f}")
    print(f"slot matches {slot_right}/{slot_total}")
    texts = [item["text"] for item in items]
    samples = []
    for _ in range(PASSES):
        for text in texts:
            start = time.perf_counter_ns()
            route(text)
            samples.append((time.perf_counter_ns() - start) / 1e6)
    samples.sort()
    p50 = statistics.median(samples)
    p95 = samples[int(0.95 * (len(samples) - 1))]
    print(f"route() over {len(samples)} calls: p50={p50:.4f} ms p95={p95:.4f} ms")
    print(f"router_p95_ms={p95:.4f}")


if __name__ == "__main__":
    main()

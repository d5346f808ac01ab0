"""Score other wake-word verifiers on the checks of a saved benchmark run, in seconds.

`bench.wakeword_athena --save-checks FILE` runs the held-out audio through stage 1 as
shipped once and keeps every check it hands to stage 2 with its window, the window's
encoding and the decoder's transcript where it was asked (`Checks`, about 490 MB).
Here each check is scored again by the verifiers given (the shipped ones by default)
and replayed as --curve does (`curve`, approximate: where a wake would have blocked
stage 1, its later firings fall elsewhere; a check whose transcript spells its word
wakes at every threshold, `with_decoder`, and one the run's verifier scored under
RESCUE_FLOOR has no transcript to give): each word's FRR and
false accepts per hour at CURVE's thresholds, the fewest false accepts per hour at
which at most 10-30% of the clips are missed, and at the config's verify_threshold
the FRR per engine and what was said at each false accept. Stage 1 stays the saved
run's: measure another stage 1 with bench.wakeword_athena --model. A verifier for
another Whisper width than the saved encodings' fails (ValueError). Run with the
satellite's venv:

    jetson/.venv/bin/python -m bench.wakeword_replay FILE [--verifier F]
        [--jarvis-verifier F]

Last line: athena_frr=<r> athena_fa_per_hour=<r> jarvis_frr=<r> jarvis_fa_per_hour=<r>,
replayed at the config's thresholds (the run gives them within a few checks: README).
"""

from __future__ import annotations

import argparse
from collections import Counter
import dataclasses
from pathlib import Path
import time

from athena_satellite.verify import Classifier, classifier_path
import numpy as np

from bench.wakeword_athena import (
    CURVE,
    Checks,
    configured,
    curve,
    false_rejects,
    replay,
    with_decoder,
)

# The shares of missed clips at which the fewest false accepts per hour are printed,
# found on CURVE's thresholds and these.
MISSED = (0.10, 0.15, 0.20, 0.25, 0.30)
FINER = tuple(round(float(t), 2) for t in np.linspace(0.01, 0.99, 99))


def main() -> None:
    """Rescore the saved checks, print the figures, the summary line last."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checks", type=Path, help="a --save-checks file (.npz)")
    parser.add_argument(
        "--verifier", help="another athena verifier .npz (default: shipped)"
    )
    parser.add_argument(
        "--jarvis-verifier", help="another jarvis verifier .npz (default: shipped)"
    )
    args = parser.parse_args()
    started = time.monotonic()
    config = configured(None, args.verifier, args.jarvis_verifier)
    words = {w.name: w for w in config.wake_words if w.verify and w.verifier}
    classifiers = {
        name: Classifier.load(classifier_path(str(w.verifier)))
        for name, w in words.items()
    }
    checks = Checks.load(args.checks).rescored(classifiers)
    print(
        f"{args.checks}: {len(checks.encoded)} checks, {checks.hours:.2f} h of "
        "negatives; verifiers "
        + ", ".join(f"{n} {w.verifier}" for n, w in words.items())
    )
    spellings = {name: w.spellings for name, w in words.items()}
    checks = dataclasses.replace(
        checks,
        positives={
            n: (with_decoder(f, spellings), spans, engines)
            for n, (f, spans, engines) in checks.positives.items()
        },
        negatives={
            k: (with_decoder(f, spellings), said)
            for k, (f, said) in checks.negatives.items()
        },
    )
    negatives = [found for found, _ in checks.negatives.values()]
    positives = {n: (f, spans) for n, (f, spans, _) in checks.positives.items()}
    figures = curve(positives, negatives, checks.refractory, checks.hours)
    finer = curve(positives, negatives, checks.refractory, checks.hours, FINER + CURVE)
    summary = {}
    for name, (found, spans, engines) in checks.positives.items():
        for threshold, frr, fa in figures[name]:
            print(
                f"curve {name} verify_threshold={threshold} frr={frr:.3f} "
                f"fa_per_hour={fa:.2f}"
            )
        fewest = [
            min((fa for _, frr, fa in finer[name] if frr <= share), default=None)
            for share in MISSED
        ]
        print(
            f"{name}: fewest false accepts per hour where FRR <= "
            + ", ".join(
                f"{share}: {'-' if fa is None else f'{fa:.1f}'}"
                for share, fa in zip(MISSED, fewest, strict=True)
            )
        )
        threshold = words[name].verify_threshold
        woke = replay(found, threshold, checks.refractory)
        frr = false_rejects(woke, name, spans)
        per_engine = {
            engine: false_rejects(
                woke,
                name,
                [s for s, e in zip(spans, engines, strict=True) if e == engine],
            )
            for engine in sorted(set(engines))
        }
        said: Counter[str] = Counter()
        for checked, texts in checks.negatives.values():
            wakes = set(replay(checked, threshold, checks.refractory))
            said.update(
                f"{text!r} ({engine})"
                for (n, s, _), (engine, text) in zip(checked, texts, strict=True)
                if n == name and (n, s) in wakes
            )
        fa = sum(said.values()) / checks.hours
        summary[name] = (frr, fa)
        print(
            f"{name} at {threshold}: frr {frr:.3f} ("
            + ", ".join(f"{e} {r:.3f}" for e, r in per_engine.items())
            + f"), {fa:.2f} false accepts per hour: "
            + ", ".join(f"{text} {n}" for text, n in said.most_common(12))
        )
    print(f"elapsed {time.monotonic() - started:.0f} s")
    print(
        " ".join(
            f"{name}_frr={frr:.3f} {name}_fa_per_hour={fa:.2f}"
            for name, (frr, fa) in summary.items()
        )
    )


if __name__ == "__main__":
    main()

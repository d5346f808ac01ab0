"""Both wake words through the satellite's two-stage wake path, on held-out voices.

Held-out voices only (training/data.py: other espeak-ng accents and variants, another
piper range, flite's five voices and Kokoro's five, engines training never hears; Kokoro
is a neural synthesizer like piper, of another family), augmented with
noise and reverberation like the training data but with another seed. Through the
satellite's own wake path (athena_satellite.verify.stream: stage 1 openWakeWord in
80 ms chunks at the shipped recall thresholds, patience and refractory times, then
stage 2: Whisper base's encoder on the CPU and each word's verifier, and its decoder's
second opinion on a check the verifier doubts), default.yaml as shipped:
- false-reject rate: clips of "athena" and "hey jarvis" in context; a clip counts as
  detected if its word wakes before the clip's end (per engine on lines of their own);
- false accepts per hour: at least 2 hours of held-out sentences, confusable words and
  noise, with neither wake word in them;
- stage 1 alone beside it (every candidate it hands to stage 2), the verifications per
  hour of ordinary speech and the CPU time of one (wall time, Whisper on 1 thread);
- each false accept with what was said and by which engine, and per engine a line of
  its own with both words' FRR and false accepts per hour of that engine's speech: the
  `engine flite` and `engine kokoro` lines are the cross-engine figures (trained on
  espeak-ng, piper and, jarvis's stage 2, SVOX Pico; measured on flite and on Kokoro).
  Stage 2 fit without one of its training engines, scored on that engine's training
  windows: training/verifier.py --without.
With --curve, the same audio again with stage 2 rejecting every check, replayed at each
of CURVE's verify thresholds (`replay`, approximate): both words' FRR and false accepts
per hour there, the trade a household makes with `verify_threshold`. --save-checks FILE
(implies --curve) also writes every check of that run with its window, the window's
encoding and the decoder's transcript (`Checks`), so bench/wakeword_replay.py can
score other verifiers on the same checks in seconds.
Run with the satellite's venv (23 minutes on this 2-core machine with --save-checks,
whose run asks the decoder on every check the verifier scores at RESCUE_FLOOR or more;
about 10 without options and 15 with --curve, scaled from it):

    jetson/.venv/bin/python -m bench.wakeword_athena [--curve]

--model and --verifier measure another athena stage 1 (.onnx) or verifier (.npz),
--jarvis-verifier another jarvis verifier.
Last line: athena_frr=<r> athena_fa_per_hour=<r> jarvis_frr=<r> jarvis_fa_per_hour=<r>
verify_ms_p50=<ms> (target per word: FRR <= 0.10 at <= 0.5 FA/h).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
import dataclasses
import os
from pathlib import Path
import sys
import time

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "jetson"))
os.environ.setdefault("ATHENA_HA_TOKEN", "bench")

from athena_satellite.audio import CHUNK_SAMPLES, RATE  # noqa: E402
from athena_satellite.config import Config, WakeWordConfig, parse  # noqa: E402
from athena_satellite.stt import Transcriber  # noqa: E402
from athena_satellite.verify import (  # noqa: E402
    RESCUE_FLOOR,
    Classifier,
    Verdict,
    Verifier,
    last_window,
    spelled,
    stream,
)
from athena_satellite.wakeword import WakeWords  # noqa: E402
from faster_whisper import WhisperModel  # noqa: E402
import numpy as np  # noqa: E402
from training import corpus, data, speech  # noqa: E402
from training.thresholds import with_word  # noqa: E402

SEED = 2026
# The engines of the held-out voices that no training uses (the cross-engine lines).
NEVER_TRAINED = ("flite", "kokoro")
# Stage 2's thresholds the --curve lines report.
CURVE = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)


Found = list[tuple[str, int, Verdict | None]]


def woke(found: Found) -> list[tuple[str, int]]:
    """(word, sample) of the detections that woke the satellite (stage 2 agreed)."""
    return [(n, s) for n, s, v in found if v is None or v.accepted]


def candidates(found: Found) -> list[tuple[str, int]]:
    """(word, sample) of every stage-1 detection: stage 1 alone."""
    return [(n, s) for n, s, _ in found]


def replay(
    found: Found, threshold: float, refractory: dict[str, int]
) -> list[tuple[str, int]]:
    """(word, sample) of the wakes at stage 2's `threshold`, replayed from a run.

    `found`: every check of a run whose stage 2 rejected each one (so each rejection
    lifted the word's refractory time and stage 1 fired wherever it would); a check
    scoring at least `threshold` wakes, and the word's later checks within its
    `refractory` samples (WakeWordConfig.refractory_s) are the ones stage 1 would not
    have fired. An approximation: where a wake blocked stage 1, its later firings (and
    so the windows stage 2 checks) fall elsewhere than in the rejecting run. At the
    shipped thresholds the replay and the run differ by a few checks (README).
    """
    wakes: list[tuple[str, int]] = []
    blocked: dict[str, int] = {}
    for name, sample, verdict in found:
        if sample < blocked.get(name, -1):
            continue
        if verdict is None or verdict.score >= threshold:
            wakes.append((name, sample))
            blocked[name] = sample + refractory[name]
    return wakes


def with_decoder(found: Found, spellings: dict[str, tuple[str, ...]]) -> Found:
    """`found` with every check whose transcript spells its word scored 1.0.

    Verifier.verify wakes such a check at any threshold (the decoder was asked because
    the classifier scored it at RESCUE_FLOOR or more); `spellings`: word → its
    spellings (WakeWordConfig.spellings).
    """
    return [
        (n, s, Verdict(v.accepted, 1.0, v.ms, v.heard))
        if v is not None
        and v.heard is not None
        and spelled(v.heard, spellings.get(n, ()))
        else (n, s, v)
        for n, s, v in found
    ]


def curve(
    positives: dict[str, tuple[Found, list[tuple[int, int]]]],
    negatives: Iterable[Found],
    refractory: dict[str, int],
    hours: float,
    thresholds: Iterable[float] = CURVE,
) -> dict[str, list[tuple[float, float, float]]]:
    """Each word's (verify_threshold, FRR, false accepts an hour) at `thresholds`.

    Replayed (`replay`) from a run whose stage 2 rejected every check: `positives`, word
    → its clips' checks and the clips' (start, end) in samples; `negatives`, the checks
    of each negative stream, `hours` long in all; `refractory`, word → samples.
    """
    negatives = list(negatives)
    figures: dict[str, list[tuple[float, float, float]]] = {w: [] for w in positives}
    for threshold in thresholds:
        wakes = [
            n for found in negatives for n, _ in replay(found, threshold, refractory)
        ]
        for name, (found, spans) in positives.items():
            frr = false_rejects(replay(found, threshold, refractory), name, spans)
            figures[name].append((threshold, frr, wakes.count(name) / hours))
    return figures


class Recorder(Verifier):
    """A Verifier that keeps every window it checks and its encoding, in order."""

    def __init__(self, model: WhisperModel, words: Sequence[WakeWordConfig]) -> None:
        super().__init__(model, words)
        self.windows: list[np.ndarray] = []
        self.encoded: list[np.ndarray] = []

    def window_encoding(self, audio: np.ndarray) -> np.ndarray:
        """Verifier.window_encoding, keeping the window and its encoding (float16)."""
        self.windows.append(last_window(audio))
        encoded = super().window_encoding(audio)
        self.encoded.append(encoded.astype(np.float16))
        return encoded


@dataclasses.dataclass
class Checks:
    """Every check of a run whose stage 2 rejected them all, to score verifiers on.

    `encoded`: each check's window as Whisper's encoder gave it, (checks, frames, width)
    float16, in the order of `positives`' checks, then `negatives`'; `windows`: the
    windows' audio, (checks, WINDOW_SAMPLES) int16, in that order; `positives`: word
    → (its clips' checks, the clips' (start, end) in samples, each clip's engine);
    `negatives`: kind → (its checks, (engine, text) said at each); `hours` of
    negatives; `refractory`: word → samples; `thresholds`: word → verify_threshold of
    the run's config.
    """

    encoded: np.ndarray
    windows: np.ndarray
    positives: dict[str, tuple[Found, list[tuple[int, int]], list[str]]]
    negatives: dict[str, tuple[Found, list[tuple[str, str]]]]
    hours: float
    refractory: dict[str, int]
    thresholds: dict[str, float]

    def rows(self) -> list[tuple[str, str, int, float, str, str, str | None]]:
        """(group, word, fired, score, engine, text, heard) of each check, as `encoded`.

        `heard`: the decoder's transcript (Verdict.heard), None where it was not asked.
        """
        rows = [
            (word, n, s, v.score, "", "", v.heard)
            for word, (found, _, _) in self.positives.items()
            for n, s, v in found
            if v is not None
        ]
        rows += [
            (kind, n, s, v.score, engine, text, v.heard)
            for kind, (found, said) in self.negatives.items()
            for (n, s, v), (engine, text) in zip(found, said, strict=True)
            if v is not None
        ]
        return rows

    def save(self, path: Path) -> None:
        """Write the checks to `path` (.npz; about 170 kB a check).

        Raises ValueError when a check has no verdict or no encoding of its own (the
        run must verify every check of both words).
        """
        rows = self.rows()
        checks = sum(len(v[0]) for v in self.positives.values())
        checks += sum(len(v[0]) for v in self.negatives.values())
        if not len(rows) == checks == len(self.encoded) == len(self.windows):
            raise ValueError(
                f"{checks} checks, {len(rows)} verified, {len(self.encoded)} encoded, "
                f"{len(self.windows)} windows"
            )
        words = sorted(self.refractory)
        columns = list(zip(*rows, strict=True)) if rows else [()] * 7
        np.savez(
            path,
            encoded=self.encoded,
            windows=self.windows,
            group=np.array(columns[0], dtype=str),
            word=np.array(columns[1], dtype=str),
            fired=np.array(columns[2], dtype=np.int64),
            score=np.array(columns[3], dtype=np.float32),
            engine=np.array(columns[4], dtype=str),
            text=np.array(columns[5], dtype=str),
            heard=np.array([h or "" for h in columns[6]], dtype=str),
            decoded=np.array([h is not None for h in columns[6]], dtype=bool),
            positive_words=np.array(list(self.positives), dtype=str),
            negative_kinds=np.array(list(self.negatives), dtype=str),
            hours=np.float64(self.hours),
            words=np.array(words, dtype=str),
            refractory=np.array([self.refractory[w] for w in words], np.int64),
            thresholds=np.array([self.thresholds[w] for w in words], np.float64),
            **{
                f"spans_{w}": np.array(v[1], np.int64)
                for w, v in self.positives.items()
            },
            **{f"engines_{w}": np.array(v[2], str) for w, v in self.positives.items()},
        )

    @classmethod
    def load(cls, path: Path) -> Checks:
        """Read checks saved by `save` (OSError if unreadable, KeyError if not one)."""
        with np.load(path) as f:
            group, word, fired = f["group"], f["word"], f["fired"]
            score, engine, text = f["score"], f["engine"], f["text"]
            heard, decoded = f["heard"], f["decoded"]

            def verdict(i: int) -> Verdict:
                return Verdict(
                    False, float(score[i]), 0.0, str(heard[i]) if decoded[i] else None
                )

            def found(g: str) -> Found:
                return [
                    (str(word[i]), int(fired[i]), verdict(i))
                    for i in np.flatnonzero(group == g)
                ]

            def said(g: str) -> list[tuple[str, str]]:
                at = np.flatnonzero(group == g)
                return [(str(engine[i]), str(text[i])) for i in at]

            words = [str(w) for w in f["words"]]
            return cls(
                encoded=f["encoded"],
                windows=f["windows"],
                positives={
                    str(w): (
                        found(str(w)),
                        [(int(a), int(b)) for a, b in f[f"spans_{w}"]],
                        [str(e) for e in f[f"engines_{w}"]],
                    )
                    for w in f["positive_words"]
                },
                negatives={
                    str(k): (found(str(k)), said(str(k))) for k in f["negative_kinds"]
                },
                hours=float(f["hours"]),
                refractory=dict(zip(words, map(int, f["refractory"]), strict=True)),
                thresholds=dict(zip(words, map(float, f["thresholds"]), strict=True)),
            )

    def rescored(self, classifiers: dict[str, Classifier]) -> Checks:
        """The same checks, each scored by its word's classifier (Classifier.best).

        A check keeps the decoder's transcript where its new score is RESCUE_FLOOR or
        more (as Verifier.verify would ask the decoder), if the run asked it there; a
        check the run's verifier scored under the floor has none (approximate).
        """
        scores = iter(
            classifiers[word].best(encoded.astype(np.float32))
            for (_, word, *_), encoded in zip(self.rows(), self.encoded, strict=True)
        )

        def scored(found: Found) -> Found:
            rescored = []
            for n, s, v in found:
                new = next(scores)
                heard = v.heard if v is not None and new >= RESCUE_FLOOR else None
                rescored.append((n, s, Verdict(False, new, 0.0, heard)))
            return rescored

        return dataclasses.replace(
            self,
            positives={
                w: (scored(found), spans, engines)
                for w, (found, spans, engines) in self.positives.items()
            },
            negatives={
                k: (scored(found), said) for k, (found, said) in self.negatives.items()
            },
        )


def configured(
    model: str | None, verifier: str | None, jarvis_verifier: str | None
) -> Config:
    """default.yaml as shipped, or with another athena `model` or either `verifier`."""
    config = parse({"home_assistant": {"url": "ws://bench/api/websocket"}})
    if model:
        config = with_word(config, "athena", model=model)
    if verifier:
        config = with_word(config, "athena", verifier=verifier)
    if jarvis_verifier:
        config = with_word(config, "jarvis", verifier=jarvis_verifier)
    return config


def pause(seconds: float, end: int, phases: np.random.Generator) -> np.ndarray:
    """Silence of `seconds` (and under 80 ms more) after a clip that ends at `end`.

    The next clip starts at a phase of stage 1's 80 ms chunks drawn from `phases`
    alone, not where the lengths of the clips before it put it: piper is not seeded,
    and its clips' lengths change from run to run, which moved every later clip against
    the chunks and changed which clips were detected.
    """
    start = end + int(seconds * RATE)
    start += (int(phases.integers(CHUNK_SAMPLES)) - start) % CHUNK_SAMPLES
    return np.zeros(start - end, np.int16)


def positive_stream(
    phrase: str,
    rng: np.random.Generator,
    augment: data.Augmenter,
    fillers: list,
    phases: np.random.Generator,
) -> tuple[np.ndarray, list[tuple[int, int]], list[str]]:
    """Clips of `phrase` by each held-out voice in one stream; (start, end), engine.

    Each clip is followed by 2.5 s of silence at least (`pause`, from `phases`).
    """
    parts, spans, engines, position = [], [], [], 0
    for voice in data.voices("eval"):
        for _ in range(2 if voice.engine == "espeak" else 8):
            word = voice.say(phrase, rng)
            before = fillers[int(rng.integers(len(fillers)))]
            after = fillers[int(rng.integers(len(fillers)))]
            clip, _end = data.with_context(word, rng, before, after)
            clip = augment(clip)
            silence = pause(2.5, position + len(clip), phases)
            parts += [clip, silence]
            spans.append((position, position + len(clip)))
            engines.append(voice.engine)
            position += len(clip) + len(silence)
    return np.concatenate(parts), spans, engines


def false_rejects(found: list[tuple[str, int]], name: str, spans: list) -> float:
    """Share of clips in which `name` did not fire (nan for no clips)."""
    if not spans:
        return float("nan")
    hits = [s for n, s in found if n == name]
    missed = sum(not any(a < s <= b + RATE // 4 for s in hits) for a, b in spans)
    return missed / len(spans)


@dataclasses.dataclass
class Negatives:
    """Held-out audio without either wake word, and who said what where.

    `segments`: (start, end, engine, text) of each spoken clip, in samples of `audio`
    (none for noise).
    """

    audio: np.ndarray
    segments: list[tuple[int, int, str, str]]

    def said(self, sample: int) -> tuple[str, str]:
        """(engine, text) of the clip at or just before `sample` ("", "" if none)."""
        for start, end, engine, text in self.segments:
            if start <= sample <= end + RATE // 2:
                return engine, text
        return "", ""

    def hours(self, engine: str | None = None) -> float:
        """Hours of the audio (None), or of `engine`'s clips with what follows them."""
        if engine is None:
            return len(self.audio) / RATE / 3600
        kept = [end - start for start, end, e, _ in self.segments if e == engine]
        return (sum(kept) + len(kept) * RATE // 2) / RATE / 3600


def joined(clips: list[tuple[np.ndarray, str, str]], phases: np.random.Generator):
    """One stream of (audio, engine, text) clips with 0.2-1.0 s pauses: Negatives."""
    parts, segments, position = [], [], 0
    for audio, engine, text in clips:
        silence = pause(float(phases.uniform(0.2, 1.0)), position + len(audio), phases)
        parts += [audio, silence]
        segments.append((position, position + len(audio), engine, text))
        position += len(audio) + len(silence)
    return Negatives(np.concatenate(parts), segments)


def negative_audio(
    rng: np.random.Generator,
    augment: data.Augmenter,
    hours: float,
    phases: np.random.Generator,
) -> dict[str, Negatives]:
    """At least `hours` of held-out non-wake audio: confusables, noise, sentences.

    Every confusable word by every held-out voice; noise of each kind at 3 volumes;
    held-out and random sentences by random held-out voices, half augmented; the pauses
    between clips from `phases` (`pause`).
    """
    voices = data.voices("eval")
    # "jarvis" is a confusable for athena but a wake word here: left out.
    confusables = [
        (voice.say(text, rng), voice.engine, text)
        for text in corpus.CONFUSABLES
        if "jarvis" not in text
        for voice in voices
    ]
    noise = np.concatenate(
        [
            speech.noise(kind, 120, volume)
            for kind in data.NOISES
            for volume in (0.02, 0.1, 0.3)
        ]
    )
    sentences: list[tuple[np.ndarray, str, str]] = []
    total = len(noise) + sum(len(a) + RATE // 2 for a, _, _ in confusables)
    texts = list(corpus.HELD_OUT)
    # Every held-out sentence at least, so a small `hours` still has some sentences.
    while len(sentences) < len(corpus.HELD_OUT) or total < hours * 3600 * RATE:
        if not texts:
            texts = corpus.random_sentences(rng, 200)
        voice = voices[int(rng.integers(len(voices)))]
        text = texts.pop()
        clip = voice.say(text, rng)
        clip = augment(clip) if rng.random() < 0.5 else clip
        sentences.append((clip, voice.engine, text))
        total += len(clip) + RATE // 2
    return {
        "confusables": joined(confusables, phases),
        "noise": Negatives(noise, []),
        "sentences": joined(sentences, phases),
    }


def main() -> None:
    """Run the benchmark and print its figures, the summary line last."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=2.0, help="negative audio")
    parser.add_argument("--model", help="another athena model file (default: shipped)")
    parser.add_argument(
        "--verifier", help="another athena verifier .npz (default: shipped)"
    )
    parser.add_argument(
        "--jarvis-verifier", help="another jarvis verifier .npz (default: shipped)"
    )
    parser.add_argument(
        "--curve", action="store_true", help="FRR and FA/h at CURVE's verify thresholds"
    )
    parser.add_argument(
        "--save-checks",
        type=Path,
        help="write the --curve run's checks here (.npz) for bench/wakeword_replay.py",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    phases = np.random.default_rng(SEED + 1)  # where clips start (`pause`)
    started = time.monotonic()
    config = configured(args.model, args.verifier, args.jarvis_verifier)
    words = WakeWords(config.wake_words)
    # For --curve only: stage 1 as shipped, stage 2 rejecting every check (no
    # probability reaches 2).
    rejecting = (
        WakeWords(
            [dataclasses.replace(w, verify_threshold=2.0) for w in config.wake_words]
        )
        if args.curve or args.save_checks
        else None
    )
    curve_positives: dict[str, tuple[Found, list, list[str]]] = {}
    curve_negatives: dict[str, tuple[Found, list[tuple[str, str]]]] = {}
    transcriber = Transcriber(config.stt_model_dir, "cpu", cpu_threads=1)
    verifier = Verifier(transcriber.model, config.wake_words)
    # The --curve run's verifier: one that keeps each window with --save-checks.
    recorder = (
        Recorder(transcriber.model, config.wake_words) if args.save_checks else verifier
    )
    names = [w.name for w in config.wake_words]
    assert {"athena", "jarvis"} <= set(names), names
    for w in config.wake_words:
        print(
            f"{w.name}: stage 1 threshold {w.threshold} (patience {w.patience}), "
            f"stage 2 {'on' if w.verify else 'off'} at {w.verify_threshold}, "
            f"verifier {w.verifier}"
        )
    voices = data.voices("eval")
    fillers = [
        voices[int(rng.integers(len(voices)))].say(t, rng) for t in corpus.HELD_OUT[:12]
    ]
    fillers += [speech.silence(1.5)]
    augment = data.Augmenter(rng, np.concatenate(fillers[:12]))

    frr, frr_stage1 = {}, {}
    verdicts: list[Verdict] = []
    frr_engine: dict[tuple[str, str], float] = {}
    for name, phrase in (("athena", "athena"), ("jarvis", "hey jarvis")):
        audio, spans, engines = positive_stream(phrase, rng, augment, fillers, phases)
        found = stream(words, verifier, audio)
        verdicts += [v for _, _, v in found if v is not None]
        if rejecting is not None:
            checked = stream(rejecting, recorder, audio)
            curve_positives[name] = (checked, spans, engines)
        frr[name] = false_rejects(woke(found), name, spans)
        frr_stage1[name] = false_rejects(candidates(found), name, spans)
        print(
            f"{name}: {len(spans)} held-out clips, false-reject rate {frr[name]:.3f} "
            f"(stage 1 alone {frr_stage1[name]:.3f})"
        )
        for engine in sorted(set(engines)):
            own = [s for s, e in zip(spans, engines, strict=True) if e == engine]
            frr_engine[name, engine] = false_rejects(woke(found), name, own)
            print(
                f"  {engine}: {len(own)} clips, false-reject rate "
                f"{frr_engine[name, engine]:.3f} "
                f"(stage 1 alone {false_rejects(candidates(found), name, own):.3f})"
            )

    counts = dict.fromkeys(names, 0)
    counts_stage1 = dict.fromkeys(names, 0)
    hours = 0.0
    engine_fa: dict[str, list[str]] = {}  # engine → words it falsely woke
    engine_hours: dict[str, float] = {}
    for kind, negatives in negative_audio(rng, augment, args.hours, phases).items():
        part_hours = negatives.hours()
        found = stream(words, verifier, negatives.audio)
        if rejecting is not None:
            checked = stream(rejecting, recorder, negatives.audio)
            said = [negatives.said(sample) for _, sample, _ in checked]
            curve_negatives[kind] = (checked, said)
        verdicts += [v for _, _, v in found if v is not None]
        accepted = [n for n, _ in woke(found)]
        fired = [n for n, _ in candidates(found)]
        per_hour = {n: round(accepted.count(n) / part_hours, 2) for n in names}
        stage1 = {n: round(fired.count(n) / part_hours, 1) for n in names}
        checks = sum(v is not None for _, _, v in found) / part_hours
        print(
            f"  {kind}: {part_hours:.2f} h, false accepts per hour {per_hour} "
            f"(stage 1 alone {stage1}); verifications per hour {checks:.0f}"
        )
        for n, sample, v in found:
            if v is not None and v.accepted:
                engine, text = negatives.said(sample)
                engine_fa.setdefault(engine, []).append(n)
                print(f"    false accept {n} {v.describe()}: {text!r} ({engine})")
        for engine in {e for _, _, e, _ in negatives.segments}:
            engine_hours[engine] = engine_hours.get(engine, 0) + negatives.hours(engine)
        hours += part_hours
        for name in names:
            counts[name] += accepted.count(name)
            counts_stage1[name] += fired.count(name)
    fa = {name: counts[name] / hours for name in names}
    print(f"negatives: {hours:.2f} h of held-out speech, confusables and noise")
    for name in names:
        print(
            f"{name}: two-stage false accepts {fa[name]:.2f} per hour, "
            f"false-reject rate {frr[name]:.3f}; stage 1 alone "
            f"{counts_stage1[name] / hours:.1f} per hour, {frr_stage1[name]:.3f}"
        )
    for engine in sorted(engine_hours):
        figures = " ".join(
            f"{name}_frr={frr_engine[name, engine]:.3f} "
            f"{name}_fa_per_hour="
            f"{engine_fa.get(engine, []).count(name) / engine_hours[engine]:.2f}"
            for name in names
        )
        trained = "training has other voices"
        if engine in NEVER_TRAINED:
            trained = "never trained on"
        print(
            f"engine {engine} ({trained}; {engine_hours[engine]:.2f} h of its "
            f"speech): {figures}"
        )
    refractory = {w.name: int(w.refractory_s * RATE) for w in config.wake_words}
    spellings = {w.name: w.spellings for w in config.wake_words}
    positives = {
        n: (with_decoder(found, spellings), spans)
        for n, (found, spans, _) in curve_positives.items()
    }
    replayed = curve(
        positives,
        (with_decoder(f, spellings) for f, _ in curve_negatives.values()),
        refractory,
        hours,
    )
    for name, figures in replayed.items():
        for threshold, frr_t, fa_t in figures:
            print(
                f"curve {name} verify_threshold={threshold} frr={frr_t:.3f} "
                f"fa_per_hour={fa_t:.2f}"
            )
    if isinstance(recorder, Recorder):
        Checks(
            np.stack(recorder.encoded),
            np.stack(recorder.windows),
            curve_positives,
            curve_negatives,
            hours,
            refractory,
            {w.name: w.verify_threshold for w in config.wake_words},
        ).save(args.save_checks)
        print(f"checks: {len(recorder.encoded)} saved to {args.save_checks}")
    ms = np.array([v.ms for v in verdicts])
    decoded = [v for v in verdicts if v.heard is not None]
    print(
        f"stage 2's decoder: asked on {len(decoded)} checks of clips and negatives "
        f"under the verify threshold, {sum(v.accepted for v in decoded)} of them woke"
    )
    print(
        f"stage 2: {len(ms)} verifications, {np.percentile(ms, 50):.0f} ms median, "
        f"{np.percentile(ms, 90):.0f} ms p90 (Whisper base int8, 1 CPU thread)"
    )
    print(f"elapsed {time.monotonic() - started:.0f} s")
    print(
        f"athena_frr={frr['athena']:.3f} athena_fa_per_hour={fa['athena']:.2f} "
        f"jarvis_frr={frr['jarvis']:.3f} jarvis_fa_per_hour={fa['jarvis']:.2f} "
        f"verify_ms_p50={np.percentile(ms, 50):.0f}"
    )


if __name__ == "__main__":
    main()

"""Choose each wake word's stage-1 threshold on the training voices only.

Stage 2 (athena_satellite/verify.py) is cheap (Whisper's encoder on 2 s, tens of ms), so
stage 1 (openWakeWord) is set for recall: of STAGE1_GRID, the lowest threshold whose
candidates (stage 1's detections, each a verification) on the training negatives
(confusables in 6 voices each, sentences, noise) stay within CANDIDATES_PER_HOUR.
Stage 2's threshold comes from training/verifier.py (out-of-fold scores of training
voices). Both run through the satellite's wake path (verify.stream), which prints the
two stages' recall and false accepts on these training voices at the shipped
thresholds. Held-out voices are never used here; bench/wakeword_athena.py measures on
them.

    jetson/.venv/bin/python -m training.thresholds [--model FILE]

`--model`: another athena stage-1 model in place of the shipped one (its threshold and
candidates an hour, before shipping it).
"""

from __future__ import annotations

import argparse
import dataclasses
import os

import numpy as np

from athena_satellite.audio import RATE, chunks
from athena_satellite.config import Config, parse
from athena_satellite.stt import Transcriber
from athena_satellite.verify import Verifier, stream
from athena_satellite.wakeword import WakeWords

from . import corpus, data, speech

STAGE1_GRID = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.9)
# Verifications an hour of training negatives may cost: at ~30 ms each on one core of
# this machine, 600 an hour are 18 s of CPU time (0.5% of a core).
CANDIDATES_PER_HOUR = 600
PHRASES = {"athena": data.POSITIVE_PHRASES, "jarvis": ("hey jarvis", "Hey Jarvis!")}


def with_word(config: Config, name: str, **fields: str) -> Config:
    """Return `config` with wake word `name`'s `fields` replaced.

    E.g. model= (stage 1: a name or a path), verifier= (stage 2: a name or a .npz path).
    """
    return dataclasses.replace(
        config,
        wake_words=tuple(
            dataclasses.replace(w, **fields) if w.name == name else w
            for w in config.wake_words
        ),
    )


def positive_clips(
    phrases: tuple[str, ...], rng: np.random.Generator, augment: data.Augmenter
) -> list[np.ndarray]:
    """Say the word in context (training sentences around it) in each training voice.

    piper's voice region gets 8 clips, as in the trainer; half the clips are augmented.
    """
    voices = data.voices("train")
    fillers = [
        voices[int(rng.integers(len(voices)))].say(t, rng) for t in corpus.TRAIN[:12]
    ]
    clips = []
    for voice in voices:
        for _ in range(8 if voice.engine == "piper" else 1):
            word = voice.say(str(rng.choice(phrases)), rng)
            before = fillers[int(rng.integers(len(fillers)))]
            after = fillers[int(rng.integers(len(fillers)))]
            clip, _end = data.with_context(word, rng, before, after)
            clips.append(augment(clip) if rng.random() < 0.5 else clip)
    return clips


def max_score(words: WakeWords, clip: np.ndarray, index: int, patience: int) -> float:
    """Stage 1's highest score held for `patience` chunks in `clip` (word `index`)."""
    words.reset()
    scores = []
    for chunk in chunks(np.concatenate([clip, speech.silence(0.5)])):
        words.process(chunk)
        scores.append(words.scores[index])
    held = [min(scores[i : i + patience]) for i in range(len(scores) - patience + 1)]
    return max(held)


def confusable_clips(rng: np.random.Generator) -> dict[str, list[np.ndarray]]:
    """Say each confusable in 6 training voices (silence around each clip)."""
    voices = data.voices("train")
    return {
        text: [
            np.concatenate(
                [
                    speech.silence(0.3),
                    voices[int(i)].say(text, rng),
                    speech.silence(0.3),
                ]
            )
            for i in rng.choice(len(voices), size=6, replace=False)
        ]
        for text in corpus.CONFUSABLES
    }


def negative_audio(
    rng: np.random.Generator, confusables: dict[str, list[np.ndarray]]
) -> np.ndarray:
    """Make training negatives: the confusables but "jarvis", sentences, noise."""
    voices = data.voices("train")
    parts = [
        clip
        for text, clips in confusables.items()
        if "jarvis" not in text
        for clip in clips
    ]
    for text in list(corpus.TRAIN) + corpus.random_sentences(rng, 100):
        voice = voices[int(rng.integers(len(voices)))]
        parts += [voice.say(text, rng), speech.silence(float(rng.uniform(0.2, 1.0)))]
    parts += [speech.noise(kind, 20, 0.1) for kind in data.NOISES]
    return np.concatenate(parts)


def main() -> None:
    """Print each word's stage-1 threshold, both stages' figures on training voices."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--model", help="another athena model file (default: shipped)")
    args = parser.parse_args()
    os.environ.setdefault("ATHENA_HA_TOKEN", "thresholds")
    rng = np.random.default_rng(args.seed)
    config = parse({"home_assistant": {"url": "ws://thresholds/api/websocket"}})
    if args.model:
        config = with_word(config, "athena", model=args.model)
    transcriber = Transcriber(config.stt_model_dir, "cpu")
    verifier = Verifier(transcriber.model, config.wake_words)
    babble = np.concatenate([speech.piper(t) for t in corpus.TRAIN[12:18]])
    augment = data.Augmenter(rng, babble)
    negatives = negative_audio(rng, confusable_clips(rng))
    hours = len(negatives) / RATE / 3600
    print(f"training negatives: {hours * 60:.1f} min")
    for index, word in enumerate(config.wake_words):
        words = WakeWords(
            [dataclasses.replace(w, threshold=0.0) for w in config.wake_words]
        )
        clips = positive_clips(PHRASES[word.name], rng, augment)
        best = np.array([max_score(words, c, index, word.patience) for c in clips])
        rate = {}
        for threshold in STAGE1_GRID:
            alone = WakeWords([dataclasses.replace(word, threshold=threshold)])
            rate[threshold] = len(stream(alone, None, negatives)) / hours
            print(
                f"{word.name}: stage 1 at {threshold}: recall "
                f"{(best >= threshold).mean():.3f}, {rate[threshold]:.0f} candidates "
                "per hour of negatives"
            )
        stage1 = min(
            (t for t in STAGE1_GRID if rate[t] <= CANDIDATES_PER_HOUR),
            default=STAGE1_GRID[-1],
        )
        both = WakeWords([dataclasses.replace(word, threshold=stage1)])
        woke = [
            any(v is not None and v.accepted for _, _, v in stream(both, verifier, c))
            for c in clips
        ]
        false = [v for _, _, v in stream(both, verifier, negatives) if v and v.accepted]
        print(
            f"{word.name}: threshold {stage1} (verify_threshold {word.verify_threshold}"
            f"): two stages recall {np.mean(woke):.3f}, {len(false) / hours:.1f} false "
            "accepts per hour of training negatives"
        )


if __name__ == "__main__":
    main()

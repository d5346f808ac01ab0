"""Choose each wake word's two-stage thresholds on the training voices only.

Stage 1 (openWakeWord) is for recall: of STAGE1_GRID, the highest threshold that still
fires on at least STAGE1_RECALL of the training clips of the word in context (so stage 2
sees every wake it can confirm, and no more candidates than needed). Stage 2 (Whisper,
athena_satellite/verify.py) is for precision: of VERIFY_GRID, the lowest threshold that
accepts none of the training negatives (confusables in 6 voices each, sentences, noise)
that stage 1 let through, and at most MAX_CONFUSABLE_SHARE of the confusable clips
themselves (stage 1 passes few of the training voices' confusables, it learnt them;
unseen voices get through it more often). Stage 1 and the candidates run through the
satellite's wake path (verify.stream).
Held-out voices are never used here; bench/wakeword_athena.py measures on them.

    jetson/.venv/bin/python -m training.thresholds
"""

from __future__ import annotations

import argparse
import dataclasses
import os

import numpy as np

from athena_satellite.audio import RATE, chunks
from athena_satellite.config import parse
from athena_satellite.stt import Transcriber
from athena_satellite.verify import Verifier, stream
from athena_satellite.wakeword import WakeWords

from . import corpus, data, speech

STAGE1_GRID = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
STAGE1_RECALL = 0.97
VERIFY_GRID = (
    0.002,
    0.005,
    0.01,
    0.02,
    0.03,
    0.05,
    0.07,
    0.1,
    0.15,
    0.2,
    0.3,
    0.4,
    0.5,
)
MAX_CONFUSABLE_SHARE = 0.02
PHRASES = {"athena": data.POSITIVE_PHRASES, "jarvis": ("hey jarvis", "Hey Jarvis!")}


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
    """Print each word's stage-1 and stage-2 thresholds for default.yaml."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    os.environ.setdefault("ATHENA_HA_TOKEN", "thresholds")
    rng = np.random.default_rng(args.seed)
    config = parse({"home_assistant": {"url": "ws://thresholds/api/websocket"}})
    transcriber = Transcriber(config.stt_model_dir, "cpu")
    verifier = Verifier(transcriber.model, config.language)
    babble = np.concatenate([speech.piper(t) for t in corpus.TRAIN[12:18]])
    augment = data.Augmenter(rng, babble)
    confusables = confusable_clips(rng)
    negatives = negative_audio(rng, confusables)
    print(f"training negatives: {len(negatives) / RATE / 60:.1f} min")
    for index, word in enumerate(config.wake_words):
        words = WakeWords(
            [dataclasses.replace(w, threshold=0.0) for w in config.wake_words]
        )
        clips = positive_clips(PHRASES[word.name], rng, augment)
        best = np.array([max_score(words, c, index, word.patience) for c in clips])
        recall = {t: float((best >= t).mean()) for t in STAGE1_GRID}
        print(f"{word.name}: stage 1 recall by threshold {recall}")
        stage1 = max(
            (t for t in STAGE1_GRID if recall[t] >= STAGE1_RECALL),
            default=STAGE1_GRID[0],
        )
        candidate = dataclasses.replace(word, threshold=stage1, verify_threshold=1.0)
        alone = WakeWords([candidate])
        pos = [
            max((v.score for _, _, v in stream(alone, verifier, c) if v), default=0.0)
            for c in clips
        ]
        neg = [v.score for _, _, v in stream(alone, verifier, negatives) if v]
        near = [
            verifier.score(clip, list(word.spellings))[0]
            for text, clips in confusables.items()
            if word.name not in text
            for clip in clips
        ]
        print(
            f"{word.name}: stage 1 at {stage1}: {len(neg)} candidates on the negatives"
            f" ({len(neg) / (len(negatives) / RATE / 3600):.0f} per hour)"
        )
        for t in VERIFY_GRID:
            print(
                f"  verify {t}: recall {np.mean(np.array(pos) >= t):.3f}, "
                f"false accepts {sum(s >= t for s in neg)}, "
                f"confusable clips accepted {np.mean(np.array(near) >= t):.3f}"
            )
        verify = min(
            (
                t
                for t in VERIFY_GRID
                if all(s < t for s in neg)
                and np.mean(np.array(near) >= t) <= MAX_CONFUSABLE_SHARE
            ),
            default=VERIFY_GRID[-1],
        )
        print(f"{word.name}: threshold {stage1} verify_threshold {verify}")


if __name__ == "__main__":
    main()

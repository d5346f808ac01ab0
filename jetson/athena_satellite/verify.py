"""Stage 2 of the wake word: Whisper, loaded for STT anyway, confirms stage 1.

Stage 1 (openWakeWord, wakeword.py) runs at a threshold chosen for recall; when it
fires, the satellite holds the next chunks until the word is over (`word_over`), then
verifies the last WINDOW_S of audio before waking.

Whisper base mishears names in unusual voices ("Athena" in an espeak-ng voice comes out
as "I see you" or "Happy Earth"), so the verifier does not match the transcript's words;
it scores the wake word's tokens with Whisper's decoder. It transcribes the window
greedily, then asks the decoder how probable each accepted spelling of the word is at
every word boundary of that transcript (after none of it, after its first token, …):
the score is the highest probability of the spelling's tokens, given the audio and the
words before that point. "Athens", "Athenian", "at the end", "hey jarred" put their own
tokens there, so the name's probability stays low; an "Athena" that Whisper would have
spelled otherwise still makes " Athena" likely. The word wakes the satellite when the
score reaches the word's `verify_threshold`.
Sources: Whisper (Radford et al. 2022, https://arxiv.org/abs/2212.04356); CTranslate2's
`Whisper.generate` with `return_logits_vocab` (the decoder's distribution at every
step of the greedy transcript) and `Whisper.align` (`text_token_probs`: the tokens of a
spelling of more than one token, as faster-whisper's word timestamps use it).
"""

from __future__ import annotations

from dataclasses import dataclass
import time
from typing import TYPE_CHECKING

import numpy as np

from .audio import CHUNK_SAMPLES, RATE, chunks

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

    from .config import WakeWordConfig
    from .wakeword import WakeWords

# The window verified: the wake word and what surrounds it ("hey jarvis" is ~0.8 s).
WINDOW_S = 2.0
# Chunks heard after stage 1 fired before verifying: at least AFTER_CHUNKS (0.32 s),
# more while the word's stage-1 score stays at its threshold (a recall threshold fires
# inside the word, "hey jar…"), MAX_AFTER_CHUNKS (0.96 s) at most.
AFTER_CHUNKS = 4
MAX_AFTER_CHUNKS = 12
# A transcript of a 2 s window is a few words; a longer one is a hallucination loop.
MAX_TOKENS = 16
# Whisper's encoder reads 30 s; the window padded to 5 s keeps its transcripts and costs
# a sixth (CTranslate2 accepts the shorter input, as whisper.cpp's audio_ctx does).
ENCODED_S = 5.0
# Below this the rest of a spelling's tokens are not scored (the product only shrinks).
MIN_SCORE = 1e-4


@dataclass(frozen=True)
class Verdict:
    """Stage 2's answer for one candidate.

    `score`: the highest probability (0-1) of one of the word's spellings in the window;
    `text`: Whisper's greedy transcript of the window; `ms`: wall time of the check.
    """

    accepted: bool
    score: float
    text: str
    ms: float


class Verifier:
    """Score a wake word's spellings in a window of audio with Whisper's decoder.

    `model` is the faster-whisper WhisperModel the satellite's Transcriber loaded (one
    model in memory for STT and verification); `language` the transcription language.
    """

    def __init__(self, model: WhisperModel, language: str = "en") -> None:
        from faster_whisper.tokenizer import Tokenizer

        self.model = model
        self.tokenizer = Tokenizer(
            model.hf_tokenizer,
            model.model.is_multilingual,
            task="transcribe",
            language=language.split("-", maxsplit=1)[0],
        )

    def tokens(self, spelling: str) -> list[int]:
        """Whisper's tokens of `spelling` as a word inside a sentence (space first)."""
        return list(self.tokenizer.encode(" " + spelling.strip()))

    def score(self, audio: np.ndarray, spellings: list[str]) -> tuple[float, str]:
        """Return (score, transcript) for int16 16 kHz `audio` (at most ENCODED_S).

        score: the highest probability over `spellings` and over the transcript's token
        boundaries of the spelling's tokens (their product), given the audio and the
        transcript before that boundary. Raises ValueError for empty `spellings`.
        """
        if not spellings:
            raise ValueError("a verified wake word needs at least one spelling")
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.transcribe import get_ctranslate2_storage

        whisper = self.model
        features = whisper.feature_extractor(audio.astype(np.float32) / 32768.0)
        frames = int(ENCODED_S * RATE) // whisper.feature_extractor.hop_length
        encoded = whisper.model.encode(
            get_ctranslate2_storage(pad_or_trim(features, frames)[np.newaxis])
        )
        prompt = [*self.tokenizer.sot_sequence, self.tokenizer.no_timestamps]

        result = whisper.model.generate(
            encoded,
            [prompt],
            beam_size=1,
            max_length=len(prompt) + MAX_TOKENS,
            suppress_blank=False,
            return_logits_vocab=True,
        )[0]
        heard = [t for t in result.sequences_ids[0] if t < self.tokenizer.eot]
        # Row i: the decoder's log-probabilities for token i of the transcript.
        logits = np.stack([np.asarray(row) for row in result.logits[0]])
        steps = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
        best = 0.0
        for spelling in spellings:
            name = self.tokens(spelling)
            for boundary in range(min(len(heard) + 1, len(steps))):
                log_p = float(steps[boundary, name[0]])
                if len(name) > 1 and log_p >= np.log(MIN_SCORE):
                    forced = whisper.model.align(
                        encoded,
                        self.tokenizer.sot_sequence,
                        [heard[:boundary] + name],
                        frames,
                    )[0].text_token_probs
                    log_p = float(np.sum(np.log(forced[boundary:])))
                best = max(best, float(np.exp(log_p)))
        return best, self.tokenizer.decode(heard).strip()

    def verify(self, word: WakeWordConfig, audio: np.ndarray) -> Verdict:
        """Verify `word` in the last WINDOW_S of `audio` (int16, 16 kHz).

        Accepted when the score reaches `word.verify_threshold`.
        """
        start = time.monotonic()
        window = audio[-int(WINDOW_S * RATE) :]
        score, text = self.score(window, list(word.spellings))
        return Verdict(
            score >= word.verify_threshold,
            score,
            text,
            1000 * (time.monotonic() - start),
        )


def word_over(words: WakeWords, word: WakeWordConfig, held: int) -> bool:
    """Tell whether `held` chunks after stage 1 fired for `word` are enough to verify.

    `words` has scored those chunks: AFTER_CHUNKS at least, then until its score falls
    under the threshold, MAX_AFTER_CHUNKS at most.
    """
    return held >= AFTER_CHUNKS and (
        words.score(word.name) < word.threshold or held >= MAX_AFTER_CHUNKS
    )


def stream(
    words: WakeWords, verifier: Verifier | None, audio: np.ndarray
) -> list[tuple[str, int, Verdict | None]]:
    """Run both stages over `audio` (int16, 16 kHz) as the satellite does, offline.

    As Satellite.handle: when stage 1 fires for a word with `verify`, the next chunks
    are scored and held until `word_over`, then stage 2 verifies it and any other word
    stage 1 fired for meanwhile, in order, until one is accepted; a rejection ends the
    word's refractory time, an acceptance counts as a wake (the satellite would record
    the command from the held chunks; here stage 1 goes on). Returns (word, sample
    after the chunk stage 1 fired on, verdict or None if unverified) for every stage-1
    detection, accepted or not.
    """
    words.reset()
    found: list[tuple[str, int, Verdict | None]] = []
    candidates: list[tuple[WakeWordConfig, int]] = []  # the first decides the hold
    held = 0
    for index, chunk in enumerate(chunks(audio), 1):
        name = words.process(chunk)
        if name is not None:
            word = next(w for w in words.words if w.name == name)
            if word.verify and verifier is not None:
                candidates.append((word, index * CHUNK_SAMPLES))
            elif not candidates:
                found.append((name, index * CHUNK_SAMPLES, None))
        if not candidates:
            continue
        held += 1
        if held <= 1 or not word_over(words, candidates[0][0], held - 1):
            continue
        assert verifier is not None
        for word, fired in candidates:
            verdict = verifier.verify(word, words.recent())
            found.append((word.name, fired, verdict))
            if verdict.accepted:
                break
            words.unblock(word.name)
        candidates, held = [], 0
    return found

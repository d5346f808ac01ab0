"""The satellite's configuration: a YAML file validated with voluptuous.

Every key has a default (``default.yaml`` beside this module shows them all), so a
minimal file names only the Home Assistant URL (direct mode) or `mode: wyoming`. Errors
name the key that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
from typing import Any

import voluptuous as vol
from voluptuous.humanize import humanize_error
import yaml

from .stt import DEFAULT_MODEL_DIR

DEFAULT_FILE = Path(__file__).with_name("default.yaml")
TOKEN_ENV = "ATHENA_HA_TOKEN"


class ConfigError(Exception):
    """The configuration file or the token is missing or invalid."""


@dataclass(frozen=True)
class WakeWordConfig:
    """One wake word: its openWakeWord model, its verification, the agent it talks to.

    `threshold` and `patience` are stage 1's (openWakeWord); with `verify`, stage 2
    (verify.py) wakes only when the `verifier` classifier (a name shipped in this
    package, or a .npz path) gives the word a probability of at least
    `verify_threshold` in the window stage 1 fired on, or, when it falls short,
    Whisper's decoder writes one of the word's `spellings` there (Verifier.verify).
    """

    name: str
    model: str
    agent_id: str | None
    threshold: float
    refractory_s: float
    patience: int = 1  # consecutive 80 ms chunks at or above the threshold
    verify: bool = False
    verify_threshold: float = 0.1
    verifier: str | None = None
    spellings: tuple[str, ...] = ()


# Seconds of silence that end a command for each of Home Assistant's "finished speaking
# detection" sensitivities (homeassistant/components/assist_pipeline/vad.py,
# VadSensitivity.to_seconds).
SENSITIVITY_S = {"aggressive": 0.25, "default": 0.7, "relaxed": 1.25}


@dataclass(frozen=True)
class VadConfig:
    """Endpointing: which VAD, how long a silence ends the command, speculative STT.

    `silence_s` is the configured one, else the `sensitivity` preset's (SENSITIVITY_S).
    """

    engine: str
    aggressiveness: int
    frame_ms: int
    silero_threshold: float
    speech_start_s: float
    sensitivity: str
    silence_s: float
    speculate_s: float
    end_when_complete: bool
    max_s: float
    start_timeout_s: float


@dataclass(frozen=True)
class WyomingConfig:
    """Wyoming mode: where the satellite serves HA and what it tells HA about itself.

    `uri`: tcp://HOST:PORT the Wyoming server listens on; `zeroconf`: announce it as
    `_wyoming._tcp` (under `zeroconf_name`, else the satellite's name) so HA discovers
    it; `area`: the area HA suggests for the new device. `services`: also start the
    STT (`stt_uri`) and TTS (`tts_uri`) Wyoming services with the packaged models;
    `stt_server`: "faster-whisper" (wyoming-faster-whisper) or "speculative"
    (asr_service.py, transcribing during the closing silence).
    """

    uri: str
    zeroconf: bool
    zeroconf_name: str | None
    area: str | None
    services: bool
    stt_server: str
    stt_uri: str
    tts_uri: str


MODES = ("direct", "wyoming")


@dataclass(frozen=True)
class Config:
    """The whole satellite configuration.

    `mode`: "direct" (HA's WebSocket API, `url` and `token`) or "wyoming" (HA's
    `wyoming` integration connects to the satellite; `url` and `token` are unused).
    """

    name: str
    mode: str
    wyoming: WyomingConfig
    url: str
    token: str
    device_id: str | None
    language: str
    conversation_timeout_s: float
    continue_conversation_s: float
    request_timeout_s: float
    wake_words: tuple[WakeWordConfig, ...]
    vad: VadConfig
    input_device: str
    output_device: str
    chime: bool
    stt_model_dir: Path
    stt_device: str
    stt_beam_size: int
    tts_model: str
    tts_length_scale: float


_WAKE_WORD = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Required("model"): str,
        vol.Optional("agent_id", default=None): vol.Any(None, str),
        vol.Optional("threshold", default=0.5): vol.All(
            vol.Coerce(float), vol.Range(min=0.0, max=1.0)
        ),
        vol.Optional("refractory_s", default=2.0): vol.All(
            vol.Coerce(float), vol.Range(min=0.0)
        ),
        vol.Optional("patience", default=1): vol.All(int, vol.Range(min=1, max=10)),
        vol.Optional("verify", default=False): bool,
        vol.Optional("verify_threshold", default=0.1): vol.All(
            vol.Coerce(float), vol.Range(min=0.0, max=1.0)
        ),
        vol.Optional("verifier", default=None): vol.Any(
            None, vol.All(str, vol.Length(min=1))
        ),
        # Words as Whisper writes them: letters only, one word each.
        vol.Optional("spellings", default=[]): vol.All(
            [vol.All(str, vol.Match(r"^[^\W\d_]+$", msg="one word of letters"))],
            vol.Coerce(tuple),
        ),
    }
)


def _verifier_if_verified(word: dict[str, Any]) -> dict[str, Any]:
    if word["verify"] and not word["verifier"]:
        raise vol.Invalid("a verified wake word needs a verifier", path=["verifier"])
    return word


_VERIFIED_WAKE_WORD = vol.All(_WAKE_WORD, _verifier_if_verified)
_SECONDS = vol.All(vol.Coerce(float), vol.Range(min=0.0))
_TCP_URI = vol.All(str, vol.Match(r"^tcp://[^:/]+:[0-9]+$"))
SCHEMA = vol.Schema(
    {
        vol.Optional("name", default="satellite"): str,
        vol.Optional("mode", default="direct"): vol.In(MODES),
        vol.Optional("wyoming", default=dict): {
            vol.Optional("uri", default="tcp://0.0.0.0:10700"): _TCP_URI,
            vol.Optional("zeroconf", default=True): bool,
            vol.Optional("zeroconf_name", default=None): vol.Any(None, str),
            vol.Optional("area", default=None): vol.Any(None, str),
            vol.Optional("services", default=True): bool,
            vol.Optional("stt_server", default="speculative"): vol.In(
                ["faster-whisper", "speculative"]
            ),
            vol.Optional("stt_uri", default="tcp://0.0.0.0:10300"): _TCP_URI,
            vol.Optional("tts_uri", default="tcp://0.0.0.0:10200"): _TCP_URI,
        },
        vol.Optional("home_assistant", default=dict): {
            vol.Optional("url"): vol.All(str, vol.Match(r"^wss?://")),
            vol.Optional("token_file"): str,
            vol.Optional("device_id", default=None): vol.Any(
                None, vol.All(str, vol.Length(min=1))
            ),
            vol.Optional("language", default="en"): str,
            vol.Optional("conversation_timeout_s", default=300): _SECONDS,
            vol.Optional("request_timeout_s", default=30): _SECONDS,
        },
        vol.Optional("continue_conversation_s", default=5): _SECONDS,
        vol.Optional("wake_words"): vol.All([_VERIFIED_WAKE_WORD], vol.Length(min=1)),
        vol.Optional("vad", default=dict): {
            vol.Optional("engine", default="webrtc"): vol.In(["webrtc", "silero"]),
            vol.Optional("aggressiveness", default=2): vol.All(int, vol.Range(0, 3)),
            # webrtcvad accepts frames of exactly 10, 20 or 30 ms at 16 kHz.
            vol.Optional("frame_ms", default=30): vol.In([10, 20, 30]),
            vol.Optional("silero_threshold", default=0.5): vol.All(
                vol.Coerce(float), vol.Range(0.0, 1.0)
            ),
            vol.Optional("speech_start_s", default=0.09): _SECONDS,
            vol.Optional("sensitivity", default="default"): vol.In(
                sorted(SENSITIVITY_S)
            ),
            vol.Optional("silence_s", default=None): vol.Any(None, _SECONDS),
            vol.Optional("speculate_s", default=0.09): _SECONDS,
            vol.Optional("end_when_complete", default=False): bool,
            vol.Optional("max_s", default=10): _SECONDS,
            vol.Optional("start_timeout_s", default=4): _SECONDS,
        },
        vol.Optional("audio", default=dict): {
            vol.Optional("input", default="default"): str,
            vol.Optional("output", default="default"): str,
            vol.Optional("chime", default=True): bool,
        },
        vol.Optional("stt", default=dict): {
            vol.Optional("model_dir", default=DEFAULT_MODEL_DIR): str,
            vol.Optional("device", default="auto"): vol.In(["auto", "cpu", "cuda"]),
            vol.Optional("beam_size", default=1): vol.All(int, vol.Range(min=1)),
        },
        vol.Optional("tts", default=dict): {
            vol.Optional("model", default="en_US-joe-medium"): str,
            vol.Optional("length_scale", default=1.0): vol.All(
                vol.Coerce(float), vol.Range(min=0.1)
            ),
        },
    }
)


def read_token(token_file: str | None) -> str:
    """Return the HA long-lived access token from `token_file`, else $ATHENA_HA_TOKEN.

    Raises ConfigError when neither gives a token (tokens never live in code or config).
    """
    if token_file:
        path = Path(token_file).expanduser()
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigError(f"cannot read token_file {path}: {err}") from err
        if not token:
            raise ConfigError(f"token_file {path} is empty")
        return token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(
            f"no Home Assistant token: set home_assistant.token_file or ${TOKEN_ENV}"
        )
    return token


def parse(data: Any, mode: str | None = None) -> Config:
    """Validate a parsed YAML document and return the Config.

    Defaults for the wake words come from ``default.yaml`` when the file names none;
    `mode` ("direct" or "wyoming") overrides the file's. Direct mode needs
    `home_assistant.url` and a token; wyoming mode reads neither. Raises ConfigError
    naming the offending key.
    """
    try:
        raw = SCHEMA(data if data is not None else {})
        if "wake_words" not in raw:
            raw["wake_words"] = SCHEMA(_defaults())["wake_words"]
    except vol.Invalid as err:
        raise ConfigError(
            f"invalid configuration: {humanize_error(data, err)}"
        ) from err
    ha, vad, audio, stt, tts = (
        raw[k] for k in ("home_assistant", "vad", "audio", "stt", "tts")
    )
    mode = mode or raw["mode"]
    if mode == "direct" and "url" not in ha:
        raise ConfigError(
            "invalid configuration: home_assistant.url is required in direct mode"
        )
    silence_s = vad["silence_s"]
    if silence_s is None:
        silence_s = SENSITIVITY_S[vad["sensitivity"]]
    return Config(
        name=raw["name"],
        mode=mode,
        wyoming=WyomingConfig(**raw["wyoming"]),
        url=ha.get("url", ""),
        token=read_token(ha.get("token_file")) if mode == "direct" else "",
        device_id=ha["device_id"],
        language=ha["language"],
        conversation_timeout_s=ha["conversation_timeout_s"],
        continue_conversation_s=raw["continue_conversation_s"],
        request_timeout_s=ha["request_timeout_s"],
        wake_words=tuple(WakeWordConfig(**w) for w in raw["wake_words"]),
        vad=VadConfig(**{**vad, "silence_s": silence_s}),
        input_device=audio["input"],
        output_device=audio["output"],
        chime=audio["chime"],
        stt_model_dir=Path(stt["model_dir"]).expanduser(),
        stt_device=stt["device"],
        stt_beam_size=stt["beam_size"],
        tts_model=tts["model"],
        tts_length_scale=tts["length_scale"],
    )


def _defaults() -> dict[str, Any]:
    return dict(yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8")))


def load(path: Path, mode: str | None = None) -> Config:
    """Read and validate the YAML file at `path` (`mode` as in `parse`).

    Raises ConfigError if the file is unusable.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read {path}: {err}") from err
    return parse(data, mode)

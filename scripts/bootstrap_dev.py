"""Prepare the development Home Assistant (scripts/develop).

`--http-port PORT` (before HA starts): store HA's HTTP settings (bind 127.0.0.1 and
PORT) in HA's own store, `.storage/http`, as HA 2026 keeps them: a YAML `http:` block
is migrated once into a pending trial, which greets the user with "Confirm new HTTP
server configuration" and a repair about the YAML.

Otherwise: waits for HA, completes onboarding through HA's onboarding API (or logs
in when it is done already), sets the country as the onboarding's location step does
(else HA raises a repair), configures Athena through its config flow on the local
llama.cpp server, makes Athena the preferred Assist pipeline's agent, and stores a
long-lived token for scripts/ask in <config>/.athena_token. Idempotent.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
import json
import os
from pathlib import Path
from typing import Any

import aiohttp

# scripts/develop exports the URL of the instance it started.
HA = os.environ.get("ATHENA_HA_URL", "http://127.0.0.1:8123")
CLIENT_ID = f"{HA}/"
USERNAME = "athena"
PASSWORD = "athena-dev"  # a local development instance bound to 127.0.0.1
COUNTRY = "US"  # configuration.yaml's location is Washington, DC
# Onboarding steps after the owner account ("user"), with the body each is posted with.
ONBOARDING_STEPS = {
    "core_config": {},
    "analytics": {},
    "integration": {"client_id": CLIENT_ID, "redirect_uri": CLIENT_ID},
}


def write_http_config(config: Path, port: int) -> None:
    """Store HA's HTTP settings: listen on 127.0.0.1:`port` only.

    The shape of `homeassistant.components.http.config` (store version 2.2): the
    confirmed ("stable") settings, no pending trial, the YAML migration done.
    Written before every start, so a config folder reused with another port follows.
    """
    from homeassistant.components.http.config import (  # the .venv's HA
        HTTP_STORAGE_SCHEMA,
        STORAGE_KEY,
        STORAGE_MINOR_VERSION,
        STORAGE_VERSION,
    )

    stable = HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": port})
    stable |= {
        "created_at": datetime.now(UTC).isoformat(),
        "error": None,
        "error_message": None,
    }
    store = {
        "version": STORAGE_VERSION,
        "minor_version": STORAGE_MINOR_VERSION,
        "key": STORAGE_KEY,
        "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
    }
    path = config / ".storage" / STORAGE_KEY
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=2))
    path.chmod(0o600)


async def wait_for(session: aiohttp.ClientSession, url: str, seconds: float) -> None:
    """Poll `url` until it answers 200 (or raise TimeoutError after `seconds`)."""
    async with asyncio.timeout(seconds):
        while True:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(1)


async def token_from_code(session: aiohttp.ClientSession, code: str) -> str:
    """Exchange an authorization code for an access token (/auth/token)."""
    data = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID}
    async with session.post(f"{HA}/auth/token", data=data) as response:
        response.raise_for_status()
        return str((await response.json())["access_token"])


async def onboard_or_login(session: aiohttp.ClientSession) -> str:
    """Create the owner on a new instance, or log in; return an access token."""
    async with session.get(f"{HA}/api/onboarding") as response:
        # Once onboarding is complete HA stops serving this view (404): all done.
        done = response.status == 404
        steps = dict.fromkeys(["user", *ONBOARDING_STEPS], True) if done else {}
        if not done:
            steps = {s["step"]: s["done"] for s in await response.json()}
    if not steps.get("user"):
        body = {
            "client_id": CLIENT_ID,
            "name": "Athena Developer",
            "username": USERNAME,
            "password": PASSWORD,
            "language": "en",
        }
        async with session.post(f"{HA}/api/onboarding/users", json=body) as response:
            response.raise_for_status()
            token = await token_from_code(session, (await response.json())["auth_code"])
    else:
        flow_body = {
            "client_id": CLIENT_ID,
            "handler": ["homeassistant", None],
            "redirect_uri": CLIENT_ID,
        }
        async with session.post(f"{HA}/auth/login_flow", json=flow_body) as response:
            flow = await response.json()
        login = {"username": USERNAME, "password": PASSWORD, "client_id": CLIENT_ID}
        async with session.post(
            f"{HA}/auth/login_flow/{flow['flow_id']}", json=login
        ) as response:
            token = await token_from_code(session, (await response.json())["result"])
    # The location step of the onboarding UI sets the country before it completes
    # "core_config"; so do we (and on an instance onboarded without one).
    await set_country(session, token)
    headers = {"Authorization": f"Bearer {token}"}
    for step, body in ONBOARDING_STEPS.items():
        if not steps.get(step):
            async with session.post(
                f"{HA}/api/onboarding/{step}", json=body, headers=headers
            ) as response:
                response.raise_for_status()
    return token


class WebSocket:
    """A minimal client of HA's WebSocket API (auth, then id-numbered commands)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 1

    async def call(self, message: dict[str, Any]) -> Any:
        """Send a command and return its `result`; raise on `success: false`."""
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, **message})
        while True:
            reply = await self.ws.receive_json()
            if reply.get("id") == self.next_id and reply["type"] == "result":
                if not reply["success"]:
                    raise RuntimeError(f"{message['type']}: {reply['error']}")
                return reply["result"]


@asynccontextmanager
async def connect(
    session: aiohttp.ClientSession, token: str
) -> AsyncIterator[WebSocket]:
    """Open HA's WebSocket API, authenticated."""
    async with session.ws_connect(f"{HA}/api/websocket") as raw:
        await raw.receive_json()
        await raw.send_json({"type": "auth", "access_token": token})
        await raw.receive_json()
        yield WebSocket(raw)


async def set_country(session: aiohttp.ClientSession, token: str) -> None:
    """Set the country when HA has none (HA raises a repair until it is set)."""
    async with connect(session, token) as ws:
        if not (await ws.call({"type": "get_config"})).get("country"):
            await ws.call({"type": "config/core/update", "country": COUNTRY})


async def configure(session: aiohttp.ClientSession, token: str, llm_url: str) -> str:
    """Add Athena (MLX / OpenAI-compatible backend) unless present; return agent id."""
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(
        f"{HA}/api/config/config_entries/entry?domain=athena", headers=headers
    ) as response:
        entries = await response.json()
    if not entries:
        async with session.post(
            f"{HA}/api/config/config_entries/flow",
            json={"handler": "athena", "show_advanced_options": False},
            headers=headers,
        ) as response:
            flow = await response.json()
        for step in (
            {"backend": "openai"},
            {"openai_url": llm_url},
            {"model": "smollm2-135m"},
        ):
            async with session.post(
                f"{HA}/api/config/config_entries/flow/{flow['flow_id']}",
                json=step,
                headers=headers,
            ) as response:
                flow = await response.json()
                if flow.get("errors"):
                    raise RuntimeError(f"Athena config flow: {flow['errors']}")
    # HA serves HTTP before every integration is set up: wait for the agent.
    async with asyncio.timeout(120):
        while True:
            async with session.get(f"{HA}/api/states", headers=headers) as response:
                states = await response.json()
            for state in states:
                if state["entity_id"].startswith("conversation.athena"):
                    return str(state["entity_id"])
            await asyncio.sleep(1)


async def main() -> None:
    """Bootstrap the development instance."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--llm-url")
    parser.add_argument("--http-port", type=int, help="only store HA's HTTP settings")
    args = parser.parse_args()
    if args.http_port is not None:
        write_http_config(args.config, args.http_port)
        return
    if args.llm_url is None:
        parser.error("--llm-url is required")
    async with aiohttp.ClientSession() as session:
        await wait_for(session, f"{args.llm_url}/v1/models", 120)
        # The frontend's manifest is served as soon as HTTP is up, onboarded or not.
        await wait_for(session, f"{HA}/manifest.json", 300)
        token = await onboard_or_login(session)
        agent = await configure(session, token, args.llm_url)
        async with connect(session, token) as ws:
            listing = await ws.call({"type": "assist_pipeline/pipeline/list"})
            preferred = next(
                p
                for p in listing["pipelines"]
                if p["id"] == listing["preferred_pipeline"]
            )
            update = {k: v for k, v in preferred.items() if k != "id"}
            update["conversation_engine"] = agent
            update["name"] = "Athena"  # what the Assist dialog shows under its title
            await ws.call(
                {
                    "type": "assist_pipeline/pipeline/update",
                    "pipeline_id": preferred["id"],
                    **update,
                }
            )
            token_file = args.config / ".athena_token"
            if not token_file.exists():
                long_lived = await ws.call(
                    {
                        "type": "auth/long_lived_access_token",
                        "client_name": "athena scripts/ask",
                        "lifespan": 3650,
                    }
                )
                token_file.write_text(long_lived)
                token_file.chmod(0o600)
            (args.config / ".athena_agent").write_text(agent)
    print(
        f"\nHome Assistant is ready: {HA}  (user {USERNAME!r}, password {PASSWORD!r})\n"
        f"Athena agent: {agent} (Assist's preferred pipeline)\n"
        'Try: scripts/ask "turn on the kitchen lights"\n'
        "Ctrl-C stops Home Assistant and the llama.cpp server.",
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main())

"""Credentials in backend URLs and the API key: sent by both backends, shown nowhere.

A URL like `http://user:pass@host:port` (a server behind a reverse proxy) and the
OpenAI-compatible server's API key must reach the servers as `Authorization`
headers, and must not appear in logs (DEBUG), diagnostics, repair issues, the entry
title, the setup-retry reason, the config flow's forms or any entity.
"""

from __future__ import annotations

import base64
from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest

from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.athena.const import (
    BACKEND_AUTO,
    BACKEND_OLLAMA,
    BACKEND_OPENAI,
    CONF_BACKEND,
    CONF_FALLBACK_MODEL,
    CONF_MODEL,
    CONF_OLLAMA_URL,
    CONF_OPENAI_URL,
    DOMAIN,
)
from custom_components.athena.redact import redact_url, split_credentials

from .conftest import agent_id, ask, make_entry, setup_entry, speech
from .fakes import FakeOllama, FakeOpenAI

USER = "athena"
PASSWORD = "pw-Zq7x!s3cret"
API_KEY = "sk-test-4f9c2b7e1d"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
SECRETS = (PASSWORD, API_KEY, BASIC.split()[1])


def with_credentials(url: str) -> str:
    """`url` (http://127.0.0.1:port) with the test user and password in it."""
    return url.replace("://", f"://{USER}:{PASSWORD}@")


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("http://u:p@h:1", "http://***@h:1"),
        ("http://u@h:1/v1", "http://***@h:1/v1"),
        ("https://u:p@ss@h/x?y=a@b", "https://***@h/x?y=a@b"),
        ("http://h:1/a@b", "http://h:1/a@b"),
        (
            "a: http://u:p@h:1; b: http://v:q@g:2",
            "a: http://***@h:1; b: http://***@g:2",
        ),
    ],
)
def test_redact_url(text: str, redacted: str) -> None:
    assert redact_url(text) == redacted


def test_split_credentials() -> None:
    assert split_credentials("http://u:p%40ss@h:1/v1") == (
        "http://h:1/v1",
        ("u", "p@ss"),
    )
    assert split_credentials("http://u@h:1") == ("http://h:1", ("u", ""))
    assert split_credentials("http://h:1") == ("http://h:1", None)


@pytest.mark.parametrize(
    ("backend", "api_key", "expected"),
    [
        (BACKEND_OLLAMA, None, BASIC),
        (BACKEND_OPENAI, None, BASIC),
        (BACKEND_OPENAI, API_KEY, f"Bearer {API_KEY}"),
    ],
)
async def test_backends_send_the_credentials(
    hass: HomeAssistant,
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    backend: str,
    api_key: str | None,
    expected: str,
) -> None:
    server = fake_ollama if backend == BACKEND_OLLAMA else fake_openai
    entry = make_entry(
        backend,
        ollama=fake_ollama if backend == BACKEND_OLLAMA else None,
        openai=fake_openai if backend == BACKEND_OPENAI else None,
    )
    data = {**entry.data, f"{backend}_url": with_credentials(server.url)}
    if api_key:
        data[CONF_API_KEY] = api_key
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data=data)
    await setup_entry(hass, entry, added=True)
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await ask(hass, "who wrote hamlet", agent_id(hass))
    assert speech(result) == "William Shakespeare wrote it."
    # Listing at setup, warm-up, the turn, the GPU check: every request.
    assert len(server.authorization) >= 3
    assert set(server.authorization) == {expected}


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


async def _configure_auto(
    hass: HomeAssistant, ollama: FakeOllama, openai: FakeOpenAI
) -> tuple[MockConfigEntry, list[str]]:
    """Create the Auto entry through the config flow, failing once on each step.

    Returns the entry and everything the flow showed (placeholders, errors, title).
    """
    shown: list[str] = []
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BACKEND: BACKEND_AUTO}
    )
    dead = {
        CONF_OPENAI_URL: with_credentials("http://127.0.0.1:9"),
        CONF_OLLAMA_URL: with_credentials(ollama.url),
        CONF_API_KEY: API_KEY,
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], dead)
    assert result["errors"] == {CONF_OPENAI_URL: "cannot_connect"}
    shown.append(repr(result.get("description_placeholders")))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**dead, CONF_OPENAI_URL: with_credentials(openai.url)}
    )
    assert result["step_id"] == "model"
    shown.append(repr(result["description_placeholders"]))
    assert result["description_placeholders"]["url"] == redact_url(
        with_credentials(openai.url)
    )
    # A typed name the server refuses (its 404 is logged), then a served one.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL: "not-served", CONF_FALLBACK_MODEL: "x"}
    )
    assert result["errors"] == {CONF_MODEL: "model_not_served"}
    shown.append(repr(result["description_placeholders"]))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_MODEL: openai.models[0], CONF_FALLBACK_MODEL: ollama.models[0]},
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    shown.append(entry.title)
    # Titled by what the servers are (the fakes say nothing of their kind).
    assert entry.title == "OpenAI-compatible server on 127.0.0.1 + Ollama on 127.0.0.1"
    assert entry.data[CONF_API_KEY] == API_KEY
    return entry, shown


async def test_credentials_are_shown_nowhere(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: athena, homeassistant, httpx...
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    assert await async_setup_component(hass, "diagnostics", {})
    entry, shown = await _configure_auto(hass, fake_ollama, fake_openai)
    assert set(fake_openai.authorization) == {f"Bearer {API_KEY}"}
    assert set(fake_ollama.authorization) == {BASIC}
    agent = agent_id(hass)

    # A turn that works, a failing request (HTTP 500, falls back), then both
    # backends unreachable: every warning path logs its backend.
    assert speech(await ask(hass, "who wrote hamlet", agent)) == (
        "William Shakespeare wrote it."
    )
    fake_openai.fault = "http_500"
    assert speech(await ask(hass, "who wrote hamlet", agent)) == (
        "William Shakespeare wrote it."
    )
    await fake_ollama.stop()
    await fake_openai.stop()
    result = await ask(hass, "who wrote hamlet", agent)
    assert speech(result) == "Sorry, I can't reach the language model server right now."
    # Ten minutes unreachable: the repair issues name the servers.
    for _ in range(11):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    issues = [
        issue
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    ]
    assert {i.translation_key for i in issues} == {"backend_unreachable"}
    assert len(issues) == 2
    dump = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    states = [
        (state.entity_id, state.state, dict(state.attributes))
        for state in hass.states.async_all()
    ]

    # Setup fails while both are down: the retry reason names the servers.
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "127.0.0.1" in str(entry.reason)

    places: dict[str, Any] = {
        "logs": caplog.text,
        "flow": shown,
        "title": entry.title,
        "diagnostics": dump,
        "issues": [
            (i.issue_id, i.translation_placeholders, i.data, i.learn_more_url)
            for i in issues
        ],
        "retry reason": (
            entry.reason,
            entry.error_reason_translation_placeholders,
        ),
        "states": states,
    }
    # The warning paths ran, naming the servers without their credentials.
    assert f"openai backend {redact_url(with_credentials(fake_openai.url))}" in (
        caplog.text
    )
    assert f"ollama backend {redact_url(with_credentials(fake_ollama.url))}" in (
        caplog.text
    )
    assert {name: _leaks(str(where)) for name, where in places.items()} == {
        name: [] for name in places
    }


async def test_an_old_title_loses_its_credentials(
    hass: HomeAssistant, fake_ollama: FakeOllama, caplog: pytest.LogCaptureFixture
) -> None:
    """Entries made before 2.2 took the URL with its password as their title."""
    caplog.set_level(logging.DEBUG)
    url = with_credentials(fake_ollama.url)
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=2,
        minor_version=1,
        title=url,
        data={CONF_BACKEND: BACKEND_OLLAMA, CONF_OLLAMA_URL: url},
    )
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (2, 2)
    # Redacted by the migration, then retitled by the server at setup.
    assert entry.title == "Ollama on 127.0.0.1"
    assert _leaks(caplog.text) == []

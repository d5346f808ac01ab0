"""Diagnostics: options, backend health, last turns; URLs redacted."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from custom_components.athena.const import BACKEND_OLLAMA
from custom_components.athena.diagnostics import async_get_config_entry_diagnostics

from .conftest import ask, make_entry, setup_entry
from .fakes import FakeOllama


async def test_diagnostics_redacts_urls_and_lists_turns(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    await ask(hass, "who wrote hamlet", "conversation.athena")
    dump = await async_get_config_entry_diagnostics(hass, entry)
    assert fake_ollama.url not in str(dump)
    assert dump["data"]["ollama_url"] == "**REDACTED**"
    (backend,) = dump["backends"]
    assert backend["url"] == "**REDACTED**"
    assert backend["reachable"] is True
    turn = backend["last_turns"][-1]
    assert turn["ok"] is True
    assert turn["evaluated_tokens"] > 0
    assert turn["ttft_ms"] is not None

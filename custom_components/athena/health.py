"""Repair issues (HA's issue registry) for the usual causes of a slow local assistant.

- `model_on_cpu`: Ollama's `/api/ps` says the agent's model is not fully in GPU
  memory (`size_vram` < `size`): part of it runs on the CPU.
- `keep_alive_zero`: an agent's keep_alive is 0, so Ollama unloads the model after
  every turn and reloads it for the next.
- `prompt_truncated`: a turn's `prompt_eval_count` filled the agent's `num_ctx`
  (Ollama cuts a longer prompt without saying so).
- `backend_unreachable`: a backend has not answered for more than 10 minutes.

Each issue is created when its condition holds and deleted when it no longer does,
checked at setup, every minute, and after every turn (the prompt size).

The same minute's check probes an unreachable backend: by listing its models, or,
while it cools down after a failed turn (`BackendStats.retry_at`), by asking it for
one token of the first agent's warm-up request, since a server that lists its
models may still hang on a chat. An answer makes it reachable (and used) again.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .backends import Backend, BackendError, async_list_models_within
from .const import BACKEND_OLLAMA, DOMAIN
from .settings import AgentSettings

if TYPE_CHECKING:
    from . import AthenaConfigEntry

_LOGGER = logging.getLogger(__name__)

CHECK_INTERVAL = timedelta(minutes=1)
UNREACHABLE_AFTER = timedelta(minutes=10)
FULL_CONTEXT_SHARE = 0.95  # prompt_eval_count at or above this share of num_ctx


def _set_issue(
    hass: HomeAssistant,
    active: bool,
    kind: str,
    issue_id: str,
    placeholders: dict[str, str],
) -> None:
    """Create (or update) the issue `issue_id` when `active`, else delete it."""
    if not active:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=kind,
        translation_placeholders=placeholders,
    )


def _agent_models(entry: AthenaConfigEntry, kind: str) -> dict[str, int]:
    """Return the agents' models on a `kind` backend, each with its least num_ctx."""
    models: dict[str, int] = {}
    for subentry in entry.subentries.values():
        settings = AgentSettings.from_data(subentry.data)
        model = settings.model_for(kind)
        models[model] = min(settings.num_ctx, models.get(model, settings.num_ctx))
    return models


def check_keep_alive(hass: HomeAssistant, entry: AthenaConfigEntry) -> None:
    """Raise or clear `keep_alive_zero` for each agent on an Ollama backend."""
    on_ollama = any(b.kind == BACKEND_OLLAMA for b in entry.runtime_data.backends)
    for subentry in entry.subentries.values():
        keep_alive = AgentSettings.from_data(subentry.data).keep_alive
        _set_issue(
            hass,
            on_ollama and keep_alive == 0,
            "keep_alive_zero",
            f"keep_alive_zero_{subentry.subentry_id}",
            {"agent": subentry.title},
        )


def check_prompt_fit(hass: HomeAssistant, entry: AthenaConfigEntry) -> None:
    """Raise or clear `prompt_truncated` from the last Ollama turn's token count."""
    models = _agent_models(entry, BACKEND_OLLAMA)
    for backend in entry.runtime_data.backends:
        last = backend.stats.last
        if backend.kind != BACKEND_OLLAMA or last is None or not last.ok:
            continue
        num_ctx = models.get(last.model)
        if num_ctx is None or last.evaluated_tokens is None:
            continue
        _set_issue(
            hass,
            last.evaluated_tokens >= FULL_CONTEXT_SHARE * num_ctx,
            "prompt_truncated",
            f"prompt_truncated_{entry.entry_id}_{last.model}",
            {
                "model": last.model,
                "num_ctx": str(num_ctx),
                "tokens": str(last.evaluated_tokens),
            },
        )


async def async_check_reachable(backend: Backend) -> BackendError | None:
    """List the backend's models within the validation timeout; the error or None.

    The result is recorded as the backend's reachability (at setup, and every
    minute while it is unreachable).
    """
    error: BackendError | None = None
    try:
        await async_list_models_within(backend)
    except BackendError as err:
        error = err
    backend.stats.set_reachable(error is None)
    return error


async def async_check_answers(
    entry: AthenaConfigEntry, backend: Backend
) -> BackendError | None:
    """Probe a backend in its cool-down with one token; the error or None.

    The request is the first agent's warm-up (its system prompt, so a server that
    comes back finds it cached), bounded by that agent's first-token timeout and
    half the check interval (checks must not overlap). An answer ends the
    cool-down; a failure starts it again. Without an agent the models are listed
    instead (`async_check_reachable`).
    """
    agent = next(iter(entry.runtime_data.agents.values()), None)
    if agent is None:
        return await async_check_reachable(backend)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": agent.settings.prompt}
    ]
    seconds = min(
        agent.settings.first_token_timeout, CHECK_INTERVAL.total_seconds() / 2
    )
    error: BackendError | None = None
    try:
        async with asyncio.timeout(seconds):
            await backend.async_warm_up(agent.request_for(backend, messages, None))
    except TimeoutError:
        error = BackendError(f"no answer within {seconds:g} s")
    except BackendError as err:
        error = err
    if error is None:
        _LOGGER.info("%s answers again", backend.url)
        backend.stats.set_reachable(True)
    else:
        _LOGGER.debug("%s still does not answer: %s", backend.url, error)
        backend.stats.cool_down()
    return error


async def async_check(hass: HomeAssistant, entry: AthenaConfigEntry) -> None:
    """Run the periodic checks: reachability (see the module), GPU placement."""
    now = dt_util.utcnow()
    for backend in entry.runtime_data.backends:
        if backend.stats.retry_at is not None:
            await async_check_answers(entry, backend)
        elif backend.stats.reachable is False:
            await async_check_reachable(backend)
        since = backend.stats.unreachable_since
        _set_issue(
            hass,
            since is not None and now - since > UNREACHABLE_AFTER,
            "backend_unreachable",
            f"backend_unreachable_{entry.entry_id}_{backend.kind}",
            {
                "url": backend.url,
                "minutes": str(int((now - since).total_seconds() // 60))
                if since
                else "0",
            },
        )
        if backend.stats.reachable:
            await _async_check_gpu(hass, entry, backend)


async def _async_check_gpu(
    hass: HomeAssistant, entry: AthenaConfigEntry, backend: Backend
) -> None:
    """Raise or clear `model_on_cpu` for each agent model the backend has loaded."""
    try:
        shares = await backend.async_gpu_shares()
    except BackendError as err:
        _LOGGER.debug("Cannot read where %s runs its models: %s", backend.label, err)
        return
    for model in _agent_models(entry, backend.kind):
        if model not in shares:
            continue  # not loaded now (or not said): nothing to say either way
        share = shares[model]
        _set_issue(
            hass,
            share < 1.0,
            "model_on_cpu",
            f"model_on_cpu_{entry.entry_id}_{model}",
            {"model": model, "gpu_percent": str(round(share * 100))},
        )

"""Config flow: the server(s) as a config entry, each agent as a subentry.

Why subentries (like core's ollama): one server serves several agents (a persona per
room, a larger model for one of them); each agent is its own conversation entity with
its own options, added and reconfigured from the entry's page.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import probatio as vol  # HA 2026's schema library (voluptuous' successor)

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_API_KEY, CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .backends import (
    BackendError,
    BackendHTTPError,
    ChatRequest,
    ServerInfo,
    async_list_models_within,
    create_backend,
    server,
)
from .const import (
    BACKEND_AUTO,
    BACKEND_OLLAMA,
    BACKEND_OPENAI,
    BACKEND_TYPES,
    BACKENDS_OF_TYPE,
    CONF_BACKEND,
    CONF_CLASSIFY_MODEL,
    CONF_CONTROL_TOOLS,
    CONF_FALLBACK_MODEL,
    CONF_FAVOURITE_TEAMS,
    CONF_FIRST_TOKEN_TIMEOUT,
    CONF_HOME_AIRPORT,
    CONF_KEEP_ALIVE,
    CONF_LANES,
    CONF_LLM_GREETINGS,
    CONF_MAX_HISTORY,
    CONF_MAX_TOKENS,
    CONF_MODEL,
    CONF_NUM_CTX,
    CONF_PROMPT,
    CONF_TEMPERATURE,
    CONF_TOTAL_TIMEOUT,
    CONF_WEATHER_ENTITY,
    DEFAULT_AGENT_NAME,
    DEFAULT_LANES,
    DOMAIN,
    MAX_LANES,
    MIN_NUM_CTX,
    PROBE_TIMEOUT,
    SUBENTRY_CONVERSATION,
    URL_KEYS,
)
from .redact import redact_url
from .settings import AgentSettings
from .sources import airports

_LOGGER = logging.getLogger(__name__)

_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


async def async_inspect(
    hass: HomeAssistant, kind: str, url: str, api_key: str | None = None
) -> tuple[list[str], ServerInfo]:
    """List the models of the `kind` server at `url` and ask it what it is.

    The models within 5 s ([]: up, unlisted); what it is names the entry.

    Raises `BackendError` when the models cannot be listed.
    """
    backend = create_backend(hass, kind, url, 1, api_key)
    try:
        models = await async_list_models_within(backend)
        return models, await backend.async_identify()
    finally:
        await backend.async_close()


async def async_probe_model(
    hass: HomeAssistant, kind: str, url: str, model: str, api_key: str | None = None
) -> str | None:
    """Ask the `kind` server at `url` for one token from `model`, a typed name.

    Returns None when the model answers, else the form's error key:
    `model_not_served` (the server refused the name, e.g. mlx_lm.server's 404 for a
    name that is neither its listed id nor the path it was started with) or
    `cannot_connect`. Waits up to `PROBE_TIMEOUT` s: the server may load the model.
    """
    backend = create_backend(hass, kind, url, 1, api_key)
    request = ChatRequest(
        model=model,
        messages=[{"role": "user", "content": "hi"}],
        max_tokens=1,
        temperature=0,
        num_ctx=MIN_NUM_CTX,
        keep_alive=0,
    )
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            async for _ in backend.stream_chat(request):
                pass
    except BackendHTTPError as err:
        _LOGGER.info("Model %r refused by %s: %s", model, backend.url, err)
        return "model_not_served"
    except (BackendError, TimeoutError) as err:
        _LOGGER.info("Cannot probe model %r at %s: %s", model, backend.url, err)
        return "cannot_connect"
    finally:
        await backend.async_close()
    return None


def _models_selector(models: list[str]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=models, custom_value=True, mode=SelectSelectorMode.DROPDOWN
        )
    )


class AthenaConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a server: backend type, URL(s), then the first agent's model."""

    VERSION = 2
    MINOR_VERSION = 2  # 2.2: titles without credentials (`async_migrate_entry`)

    def __init__(self) -> None:
        self._backend = BACKEND_OLLAMA
        self._urls: dict[str, str] = {}
        self._api_key: str | None = None  # OpenAI-compatible server only
        self._models: dict[str, list[str]] = {}
        self._servers: dict[str, ServerInfo] = {}

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the backend type."""
        if user_input is not None:
            self._backend = user_input[CONF_BACKEND]
            return await self.async_step_server()
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_BACKEND, default=BACKEND_OLLAMA): SelectSelector(
                        SelectSelectorConfig(
                            options=list(BACKEND_TYPES),
                            translation_key=CONF_BACKEND,
                            mode=SelectSelectorMode.LIST,
                        )
                    )
                }
            ),
        )

    async def async_step_server(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enter and validate the server URL(s) by listing their models.

        An OpenAI-compatible server may take an API key (sent as a Bearer token).
        URLs may carry `user:pass@` (HTTP Basic auth); they are redacted wherever
        shown or logged.
        """
        kinds = BACKENDS_OF_TYPE[self._backend]
        errors: dict[str, str] = {}
        if user_input is not None:
            self._api_key = str(user_input.get(CONF_API_KEY) or "").strip() or None
            for kind in kinds:
                key = URL_KEYS[kind]
                try:
                    url = cv.url(str(user_input[key]).strip()).rstrip("/")
                except vol.Invalid:
                    errors[key] = "invalid_url"
                    continue
                for entry in self._async_current_entries(include_ignore=False):
                    if url in (entry.data.get(k) for k in URL_KEYS.values()):
                        return self.async_abort(reason="already_configured")
                self._urls[kind] = url
            for kind in kinds:
                key = URL_KEYS[kind]
                if key in errors:
                    continue
                try:
                    models, self._servers[kind] = await async_inspect(
                        self.hass, kind, self._urls[kind], self._key_for(kind)
                    )
                except BackendError as err:
                    url = redact_url(self._urls[kind])
                    _LOGGER.info("Cannot list models at %s: %s", url, err)
                    errors[key] = "cannot_connect"
                    continue
                if not models and kind == BACKEND_OLLAMA:
                    errors[key] = "no_models"
                self._models[kind] = models
            if not errors:
                return await self.async_step_model()
        schema: dict[Any, Any] = {vol.Required(URL_KEYS[kind]): _URL for kind in kinds}
        if BACKEND_OPENAI in kinds:
            schema[vol.Optional(CONF_API_KEY)] = _SECRET
        return self.async_show_form(
            step_id="server",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(schema), user_input or {}
            ),
            errors=errors,
            description_placeholders={"backend": self._backend},
        )

    def _key_for(self, kind: str) -> str | None:
        """Return the API key for the `kind` server (OpenAI-compatible only)."""
        return self._api_key if kind == BACKEND_OPENAI else None

    async def async_step_model(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the first agent's model from the listed ones; create the entry."""
        kinds = BACKENDS_OF_TYPE[self._backend]
        primary = kinds[0]
        errors: dict[str, str] = {}
        model = user_input[CONF_MODEL] if user_input is not None else None
        # A typed name (not in the server's list) is checked by asking for one token.
        if (
            model is not None
            and model not in self._models[primary]
            and (
                error := await async_probe_model(
                    self.hass,
                    primary,
                    self._urls[primary],
                    model,
                    self._key_for(primary),
                )
            )
        ):
            errors[CONF_MODEL] = error
        if user_input is not None and not errors:
            return self.async_create_entry(
                title=server.title(
                    [(self._servers[kind], self._urls[kind]) for kind in kinds]
                ),
                data={
                    CONF_BACKEND: self._backend,
                    **{URL_KEYS[kind]: self._urls[kind] for kind in kinds},
                    **({CONF_API_KEY: self._api_key} if self._api_key else {}),
                },
                options={CONF_LANES: DEFAULT_LANES},
                subentries=[
                    {
                        "subentry_type": SUBENTRY_CONVERSATION,
                        "data": user_input,
                        "title": DEFAULT_AGENT_NAME,
                        "unique_id": None,
                    }
                ],
            )
        listed = self._models[primary]
        schema: dict[Any, Any] = {
            vol.Required(
                CONF_MODEL, **({"default": listed[0]} if listed else {})
            ): _models_selector(listed)
        }
        if self._backend == BACKEND_AUTO:
            fallback = self._models[BACKEND_OLLAMA]
            schema[vol.Required(CONF_FALLBACK_MODEL, default=fallback[0])] = (
                _models_selector(fallback)
            )
        return self.async_show_form(
            step_id="model",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(schema), user_input or {}
            ),
            errors=errors,
            description_placeholders={"url": redact_url(self._urls[primary])},
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> AthenaOptionsFlow:
        """Server options (lanes)."""
        return AthenaOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Agents are subentries."""
        return {SUBENTRY_CONVERSATION: AgentSubentryFlow}


class AthenaOptionsFlow(OptionsFlow):
    """Server and household options: lanes, weather entity, teams, home airport."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and save the options; an unknown home airport code is refused."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = dict(user_input)
            data[CONF_LANES] = int(data[CONF_LANES])
            airport = str(data.get(CONF_HOME_AIRPORT, "")).strip().upper()
            if airport:
                if airport not in airports.load().codes:
                    errors[CONF_HOME_AIRPORT] = "unknown_airport"
                data[CONF_HOME_AIRPORT] = airport
            data[CONF_FAVOURITE_TEAMS] = parse_teams(data.get(CONF_FAVOURITE_TEAMS))
            data = {k: v for k, v in data.items() if v not in ("", [], None)}
            if not errors:
                return self.async_create_entry(data=data)
        options = {CONF_LANES: DEFAULT_LANES, **self.config_entry.options}
        # Stored as a list; shown one team per line.
        options[CONF_FAVOURITE_TEAMS] = "\n".join(options.get(CONF_FAVOURITE_TEAMS, []))
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_LANES): _number(1, MAX_LANES),
                        vol.Optional(CONF_WEATHER_ENTITY): EntitySelector(
                            EntitySelectorConfig(domain="weather")
                        ),
                        vol.Optional(CONF_FAVOURITE_TEAMS): TextSelector(
                            TextSelectorConfig(multiline=True)
                        ),
                        vol.Optional(CONF_HOME_AIRPORT): TextSelector(),
                    }
                ),
                user_input or options,
            ),
            errors=errors,
        )


def parse_teams(value: str | list[str] | None) -> list[str]:
    """Return the favourite teams of the options form: one per line, lower case.

    A list (the stored shape, or what an API client sends) is taken item by item.
    """
    lines = value.splitlines() if isinstance(value, str) else list(value or [])
    return [team for line in lines if (team := str(line).strip().lower())]


def unique_agent_name(hass: HomeAssistant) -> str:
    """Return "Athena", or "Athena 2", "Athena 3"... when agents have those names.

    Every Athena agent counts (of every server), so no two default to one name.
    """
    taken = {
        subentry.title
        for entry in hass.config_entries.async_entries(DOMAIN)
        for subentry in entry.subentries.values()
    }
    if DEFAULT_AGENT_NAME not in taken:
        return DEFAULT_AGENT_NAME
    number = 2
    while f"{DEFAULT_AGENT_NAME} {number}" in taken:
        number += 1
    return f"{DEFAULT_AGENT_NAME} {number}"


def _number(minimum: float, maximum: float, step: float = 1) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum, max=maximum, step=step, mode=NumberSelectorMode.BOX
        )
    )


def agent_schema(
    settings: AgentSettings,
    models: list[str],
    backend: str,
    name: str | None = None,
) -> vol.Schema:
    """Return the agent form for an entry of `backend` type, filled with `settings`.

    `name` (a new agent's default name) adds the name field. Options only one
    backend reads are shown only where that backend is: the fallback model in
    Auto, keep_alive and the context window (num_ctx) where Ollama is.
    """
    auto = backend == BACKEND_AUTO
    on_ollama = BACKEND_OLLAMA in BACKENDS_OF_TYPE[backend]
    schema: dict[Any, Any] = {}
    if name is not None:
        schema[vol.Required(CONF_NAME, default=name)] = str
    schema[vol.Required(CONF_MODEL, default=settings.model or (models or [""])[0])] = (
        _models_selector(models)
    )
    if auto:
        schema[vol.Required(CONF_FALLBACK_MODEL, default=settings.fallback_model)] = (
            TextSelector()
        )
    optional_text = {"suggested_value": settings.classify_model or None}
    schema.update(
        {
            vol.Optional(
                CONF_CLASSIFY_MODEL, description=optional_text
            ): _models_selector(models),
            vol.Required(CONF_PROMPT, default=settings.prompt): TextSelector(
                TextSelectorConfig(multiline=True)
            ),
            vol.Required(CONF_TEMPERATURE, default=settings.temperature): _number(
                0, 2, 0.05
            ),
            vol.Required(CONF_MAX_TOKENS, default=settings.max_tokens): _number(
                1, 8192
            ),
            vol.Required(
                CONF_FIRST_TOKEN_TIMEOUT, default=settings.first_token_timeout
            ): _number(1, 600),
            vol.Required(CONF_TOTAL_TIMEOUT, default=settings.total_timeout): _number(
                1, 3600
            ),
        }
    )
    if on_ollama:
        schema.update(
            {
                vol.Required(CONF_KEEP_ALIVE, default=settings.keep_alive): _number(
                    -1, 86400
                ),
                vol.Required(CONF_NUM_CTX, default=settings.num_ctx): _number(
                    MIN_NUM_CTX, 131072
                ),
            }
        )
    schema.update(
        {
            vol.Required(CONF_MAX_HISTORY, default=settings.max_history): _number(
                0, 100
            ),
            vol.Required(
                CONF_CONTROL_TOOLS, default=settings.control_tools
            ): BooleanSelector(),
            vol.Required(
                CONF_LLM_GREETINGS, default=settings.llm_greetings
            ): BooleanSelector(),
        }
    )
    return vol.Schema(schema)


class AgentSubentryFlow(ConfigSubentryFlow):
    """Add or reconfigure an agent; one form serves both."""

    async def async_step_set_options(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Show the agent options; save them (the entry then reloads)."""
        entry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        is_new = self.source == "user"
        if user_input is not None:
            data = {k: v for k, v in user_input.items() if k != CONF_NAME and v != ""}
            for key in (
                CONF_MAX_TOKENS,
                CONF_NUM_CTX,
                CONF_MAX_HISTORY,
                CONF_KEEP_ALIVE,
            ):
                if key in data:  # keep_alive and num_ctx: only where Ollama is
                    data[key] = int(data[key])
            if is_new:
                return self.async_create_entry(title=user_input[CONF_NAME], data=data)
            return self.async_update_and_abort(
                entry, self._get_reconfigure_subentry(), data=data
            )
        try:
            models = await async_list_models_within(entry.runtime_data.backends[0])
        except BackendError:
            models = []
        current = {} if is_new else self._get_reconfigure_subentry().data
        settings = AgentSettings.from_data(current)
        return self.async_show_form(
            step_id="set_options",
            data_schema=agent_schema(
                settings,
                models,
                entry.data[CONF_BACKEND],
                unique_agent_name(self.hass) if is_new else None,
            ),
            description_placeholders={"server": entry.title},
        )

    async_step_user = async_step_set_options
    async_step_reconfigure = async_step_set_options

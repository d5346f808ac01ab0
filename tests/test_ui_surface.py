"""What a person meets in Home Assistant's UI, checked through HA's own registries
and states: the agent's features, the servers' titles and devices, the diagnostic
sensors' names, icons and values (or why they have none), the forms.

Servers here are loopback replays of real ones: llama-cpp-python's server from the
captures in tests/fixtures/openai-compat/, llama.cpp's `llama-server` from the
shapes its README documents (ggml-org/llama.cpp tools/server/README.md: `owned_by`
"llamacpp", `/props` `build_info`, `timings` in the last chunk).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from PIL import Image
import pytest

from homeassistant import config_entries
from homeassistant.components.conversation import ConversationEntityFeature
from homeassistant.const import CONF_NAME, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.athena.backends.openai import parse_chunk
from custom_components.athena.backends.server import kind_of_openai_server
from custom_components.athena.const import (
    BACKEND_AUTO,
    BACKEND_OLLAMA,
    BACKEND_OPENAI,
    CONF_BACKEND,
    CONF_KEEP_ALIVE,
    CONF_MODEL,
    CONF_NUM_CTX,
    CONF_OPENAI_URL,
    DOMAIN,
    SUBENTRY_CONVERSATION,
)
from custom_components.athena.health import CHECK_INTERVAL

from .conftest import agent_id, ask, make_entry, setup_entry
from .fakes import FIXTURES, FakeOllama, FakeOpenAI, serve

COMPONENT = Path(__file__).parent.parent / "custom_components" / "athena"
CAPTURES = FIXTURES / "openai-compat"
SENSOR = "sensor.athena_backend_openai_compatible"


def _sse(chunks: list[dict[str, Any]]) -> bytes:
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + (
        b"data: [DONE]\n\n"
    )


def llama_cpp_python_app() -> web.Application:
    """llama-cpp-python 0.3.36's server, replayed: uvicorn, owned_by "me", its
    /openapi.json, and a stream without any token counts.
    """
    headers = {"Server": "uvicorn"}

    async def models(request: web.Request) -> web.Response:
        body = (CAPTURES / "llamacpp-python-server-0.3.36-models.json").read_text()
        return web.Response(text=body, content_type="application/json", headers=headers)

    async def openapi(request: web.Request) -> web.Response:
        body = (CAPTURES / "llamacpp-python-server-0.3.36-openapi.json").read_text()
        return web.Response(text=body, content_type="application/json", headers=headers)

    async def chat(request: web.Request) -> web.Response:
        body = (
            CAPTURES / "llamacpp-python-server-0.3.36-chat-stream-turn1.sse"
        ).read_text()
        return web.Response(
            text=body, content_type="text/event-stream", headers=headers
        )

    app = web.Application()
    app.router.add_get("/v1/models", models)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_post("/v1/chat/completions", chat)
    return app


TIMINGS = {
    "prompt_n": 12,
    "prompt_ms": 30.1,
    "cache_n": 40,
    "predicted_n": 3,
    "predicted_ms": 20.0,
    "predicted_per_second": 150.0,
}


def llama_server_app(busy: dict[str, bool] | None = None) -> web.Application:
    """llama.cpp's `llama-server`: owned_by "llamacpp", /props, timings.

    While `busy["props"]` is True, /props drops the connection unanswered (as a
    server too busy to answer within the timeout is given up on).
    """
    headers = {"Server": "llama.cpp"}
    busy = busy if busy is not None else {"props": False}

    async def models(request: web.Request) -> web.Response:
        data = [{"id": "smollm2", "object": "model", "owned_by": "llamacpp"}]
        return web.json_response({"object": "list", "data": data}, headers=headers)

    async def props(request: web.Request) -> web.Response:
        if busy["props"] and request.transport is not None:
            request.transport.close()
        return web.json_response({"build_info": "b6123-1a2b3c4"}, headers=headers)

    async def chat(request: web.Request) -> web.Response:
        base = {"object": "chat.completion.chunk", "model": "smollm2"}
        words = ["William ", "Shakespeare ", "wrote it."]
        chunks = [
            {**base, "choices": [{"index": 0, "delta": {"content": w}}]} for w in words
        ]
        chunks.append(
            {
                **base,
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 52, "completion_tokens": 3},
                "timings": TIMINGS,
            }
        )
        return web.Response(
            body=_sse(chunks), content_type="text/event-stream", headers=headers
        )

    app = web.Application()
    app.router.add_get("/v1/models", models)
    app.router.add_get("/props", props)
    app.router.add_post("/v1/chat/completions", chat)
    return app


@pytest.fixture
async def replay(socket_enabled: None) -> AsyncIterator[Callable[..., Any]]:
    """Start a replayed server app on loopback; returns its base URL."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner, url = await serve(app)
        runners.append(runner)
        return url

    yield start
    for runner in runners:
        await runner.cleanup()


async def _create_through_flow(hass: HomeAssistant, url: str, model: str) -> Any:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BACKEND: BACKEND_OPENAI}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_OPENAI_URL: url}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL: model}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    return result["result"]


def _backend_device(hass: HomeAssistant, entry: Any, kind: str) -> dr.DeviceEntry:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_{kind}"), entry.entry_id
    )
    assert device is not None
    return device


async def test_the_agent_says_it_controls_the_home(
    hass: HomeAssistant, ollama_agent: str
) -> None:
    """Assist shows "This assistant cannot control your home." without CONTROL:
    every agent controls devices through HA's intents, with or without tools.
    """
    state = hass.states.get(ollama_agent)
    assert state.attributes["supported_features"] == ConversationEntityFeature.CONTROL


async def test_llama_cpp_python_server_names_entry_and_device_and_fills_speed(
    hass: HomeAssistant, replay: Callable[..., Any]
) -> None:
    url = await replay(llama_cpp_python_app())
    assert await async_setup_component(hass, "homeassistant", {})
    entry = await _create_through_flow(hass, url, "SmolLM2-135M-Instruct.Q4_1.gguf")
    assert entry.title == "llama.cpp on 127.0.0.1"
    device = _backend_device(hass, entry, BACKEND_OPENAI)
    assert (device.name, device.model, device.sw_version) == (
        "llama.cpp on 127.0.0.1",
        "llama-cpp-python",
        "0.3.36",
    )
    assert device.manufacturer is None

    await ask(hass, "who wrote hamlet", agent_id(hass))
    # Streamed chunks are counted as tokens: the speed is known ...
    assert float(hass.states.get(f"{SENSOR}_average_tokens_per_second").state) > 0
    # ... the prompt counts are not sent at all: unavailable, with the reason.
    for key in ("last_prompt_tokens_evaluated", "last_cached_prompt_tokens"):
        assert hass.states.get(f"{SENSOR}_{key}").state == STATE_UNAVAILABLE
    unreported = entry.runtime_data.backends[0].stats.unreported
    assert set(unreported) == {"evaluated_tokens", "cached_tokens"}


async def test_llama_server_timings_fill_the_token_sensors(
    hass: HomeAssistant, replay: Callable[..., Any]
) -> None:
    url = await replay(llama_server_app())
    assert await async_setup_component(hass, "homeassistant", {})
    entry = await _create_through_flow(hass, url, "smollm2")
    assert entry.title == "llama.cpp on 127.0.0.1"
    device = _backend_device(hass, entry, BACKEND_OPENAI)
    assert (device.model, device.sw_version) == ("llama-server", "b6123-1a2b3c4")
    await ask(hass, "who wrote hamlet", agent_id(hass))
    states = {
        key: hass.states.get(f"{SENSOR}_{key}").state
        for key in (
            "last_prompt_tokens_evaluated",
            "last_cached_prompt_tokens",
            "average_tokens_per_second",
        )
    }
    assert states == {
        "last_prompt_tokens_evaluated": "12",
        "last_cached_prompt_tokens": "40",
        "average_tokens_per_second": "150.0",
    }


async def test_a_server_too_busy_to_say_what_it_is_names_its_device_later(
    hass: HomeAssistant, replay: Callable[..., Any]
) -> None:
    """Neither the flow nor setup waits for a server to say what it is: the entry
    is titled and its device named "OpenAI-compatible server" then, and by the
    server once the next health check hears it, without a reload; a device name or
    title the user chose stays. An entry titled by its URL (before 0.2) is retitled
    the same way.
    """
    busy = {"props": True}
    url = await replay(llama_server_app(busy))
    assert await async_setup_component(hass, "homeassistant", {})
    entry = await _create_through_flow(hass, url, "smollm2")
    assert entry.title == "OpenAI-compatible server on 127.0.0.1"
    device = _backend_device(hass, entry, BACKEND_OPENAI)
    assert (device.name, device.model, device.sw_version) == (
        "OpenAI-compatible server on 127.0.0.1",
        "OpenAI-compatible server",
        None,
    )
    dr.async_get(hass).async_update_device(device.id, name_by_user="The LLM box")
    await ask(hass, "who wrote hamlet", agent_id(hass))  # it answers all the same
    runtime = entry.runtime_data

    busy["props"] = False
    async_fire_time_changed(hass, dt_util.utcnow() + CHECK_INTERVAL)
    await hass.async_block_till_done(wait_background_tasks=True)
    device = _backend_device(hass, entry, BACKEND_OPENAI)
    assert (device.name, device.model, device.sw_version) == (
        "llama.cpp on 127.0.0.1",
        "llama-server",
        "b6123-1a2b3c4",
    )
    assert device.name_by_user == "The LLM box"
    assert entry.title == "llama.cpp on 127.0.0.1"
    assert entry.runtime_data is runtime  # a new title is no reason to reload

    busy["props"] = True
    hass.config_entries.async_update_entry(entry, title=url)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.title == url
    runtime = entry.runtime_data
    busy["props"] = False
    async_fire_time_changed(hass, dt_util.utcnow() + 2 * CHECK_INTERVAL)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.title == "llama.cpp on 127.0.0.1"
    assert entry.runtime_data is runtime

    hass.config_entries.async_update_entry(entry, title="Upstairs")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.title == "Upstairs"


@pytest.mark.parametrize(
    ("models", "header", "kind"),
    [
        ({"data": [{"id": "m", "owned_by": "llamacpp"}]}, None, "llama.cpp"),
        ({"data": [{"id": "m", "owned_by": "vllm"}]}, "uvicorn", "vLLM"),
        ({"data": [{"id": "m", "owned_by": "organization_owner"}]}, None, "LM Studio"),
        ({"data": [{"id": "m", "owned_by": "library"}]}, None, "Ollama"),
        (
            json.loads((CAPTURES / "mlx_lm-server-0.32.2-models.json").read_text()),
            "BaseHTTP/0.6 Python/3.11.7",
            "mlx_lm.server",
        ),
        # llama-cpp-python says it only in /openapi.json (see the test above).
        (
            json.loads(
                (CAPTURES / "llamacpp-python-server-0.3.36-models.json").read_text()
            ),
            "uvicorn",
            None,
        ),
        ("not json", None, None),
        ({"data": [{"owned_by": ["odd"]}, 7]}, "Python/3.14 aiohttp/3.14", None),
    ],
)
def test_kind_of_an_openai_compatible_server(
    models: Any, header: str | None, kind: str | None
) -> None:
    assert kind_of_openai_server(models, header) == kind


def test_timings_join_the_usage() -> None:
    usage, text = parse_chunk(
        {
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 52, "completion_tokens": 3},
            "timings": TIMINGS,
        },
        {},
    )
    assert text == ""
    assert usage is not None
    assert (usage.prompt_tokens, usage.evaluated_tokens, usage.cached_tokens) == (
        52,
        12,
        40,
    )
    assert (usage.completion_tokens, usage.tokens_per_s) == (3, 150.0)


async def test_ollama_device_and_the_cached_tokens_it_never_reports(
    hass: HomeAssistant, fake_ollama: FakeOllama
) -> None:
    entry = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, entry)
    device = _backend_device(hass, entry, BACKEND_OLLAMA)
    assert (device.name, device.model, device.sw_version) == (
        "Ollama on 127.0.0.1",
        "Ollama",
        "0.5.1",
    )
    await ask(hass, "who wrote hamlet", agent_id(hass))
    sensor = "sensor.athena_backend_ollama"
    assert int(hass.states.get(f"{sensor}_last_prompt_tokens_evaluated").state) > 0
    assert float(hass.states.get(f"{sensor}_average_tokens_per_second").state) > 0
    assert hass.states.get(f"{sensor}_last_cached_prompt_tokens").state == (
        STATE_UNAVAILABLE
    )


async def test_an_entry_titled_by_its_url_is_retitled_a_chosen_title_stays(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_openai: FakeOpenAI
) -> None:
    old = make_entry(BACKEND_AUTO, ollama=fake_ollama, openai=fake_openai)
    old.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        old, title=f"{fake_openai.url} + {fake_ollama.url}"
    )
    chosen = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, old, added=True)
    await setup_entry(hass, chosen)
    assert old.title == "OpenAI-compatible server on 127.0.0.1 + Ollama on 127.0.0.1"
    assert chosen.title == "Athena test"


def test_names_fit_a_device_card_and_every_sensor_has_an_icon() -> None:
    strings = json.loads((COMPONENT / "strings.json").read_text())
    icons = json.loads((COMPONENT / "icons.json").read_text())
    for platform, entities in strings["entity"].items():
        for key, entity in entities.items():
            assert len(entity["name"]) <= 20, entity["name"]
            assert icons["entity"][platform][key]["default"].startswith("mdi:")
    assert set(icons["services"]) == set(strings["services"])


def test_every_form_field_and_step_is_described() -> None:
    """Each step has a title and a description, each field a description."""
    strings = json.loads((COMPONENT / "strings.json").read_text())
    steps = [
        *strings["config"]["step"].values(),
        *strings["options"]["step"].values(),
        *strings["config_subentries"]["conversation"]["step"].values(),
    ]
    for step in steps:
        assert step["title"] and step["description"], step
        assert set(step["data"]) == set(step["data_description"]), step


async def test_agent_form_default_name_and_backend_fields(
    hass: HomeAssistant, fake_ollama: FakeOllama, fake_openai: FakeOpenAI
) -> None:
    """A new agent is "Athena 2" beside "Athena"; Ollama-only fields only on Ollama."""

    async def form(entry: MockConfigEntry) -> dict[str, Any]:
        result = await hass.config_entries.subentries.async_init(
            (entry.entry_id, SUBENTRY_CONVERSATION),
            context={"source": config_entries.SOURCE_USER},
        )
        assert result["description_placeholders"] == {"server": entry.title}
        return {
            key.schema: key.default() if callable(key.default) else None
            for key in result["data_schema"].schema
        }

    on_openai = make_entry(BACKEND_OPENAI, openai=fake_openai)
    await setup_entry(hass, on_openai)
    fields = await form(on_openai)
    assert fields[CONF_NAME] == "Athena 2"
    assert CONF_KEEP_ALIVE not in fields
    assert CONF_NUM_CTX not in fields
    on_ollama = make_entry(BACKEND_OLLAMA, ollama=fake_ollama)
    await setup_entry(hass, on_ollama)
    fields = await form(on_ollama)
    assert fields[CONF_NAME] == "Athena 2"  # still: a form is not an agent yet
    assert {CONF_KEEP_ALIVE, CONF_NUM_CTX} <= set(fields)


def test_the_two_add_buttons_say_what_they_add() -> None:
    """The entry's button (HA: "Add service") and the agent's, side by side."""
    strings = json.loads((COMPONENT / "strings.json").read_text())
    assert strings["config"]["initiate_flow"]["user"] == "Add LLM server"
    subentry = strings["config_subentries"]["conversation"]
    assert subentry["initiate_flow"]["user"] == "Add conversation agent"


BRAND_SIZES = {"icon": (256, 256), "icon@2x": (512, 512)}


@pytest.mark.parametrize("theme", ["", "dark_"])
@pytest.mark.parametrize("image", ["icon", "icon@2x", "logo", "logo@2x"])
def test_brand_images_are_the_sizes_home_assistant_asks_for(
    theme: str, image: str
) -> None:
    with Image.open(COMPONENT / "brand" / f"{theme}{image}.png") as png:
        assert png.format == "PNG"
        assert png.mode == "RGBA"  # transparent around the rounded square
        if image in BRAND_SIZES:
            assert png.size == BRAND_SIZES[image]
        else:  # a logo: the icon's height, wider than high
            assert png.height == (256 if "@2x" in image else 128)
            assert png.width > png.height


async def test_home_assistant_serves_the_brand_icon(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()
    for image in ("icon.png", "dark_icon@2x.png", "logo.png"):
        response = await client.get(f"/api/brands/integration/{DOMAIN}/{image}")
        assert response.status == 200, image
        assert (await response.read()) == (COMPONENT / "brand" / image).read_bytes()

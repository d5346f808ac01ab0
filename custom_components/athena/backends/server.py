"""What a backend's server says it is: its kind and version, for titles and devices.

Nothing here is needed to chat, and nothing here raises: a server that says nothing
about itself is an "OpenAI-compatible server". The signs, each from the server's
own API (the first that matches wins):

- llama.cpp's `llama-server`: `/v1/models` entries `"owned_by": "llamacpp"` or a
  `Server: llama.cpp` header; its build from `/props` `build_info` ("b6123-1a2b3c4").
- vLLM: `"owned_by": "vllm"`; its version from `/version`.
- LM Studio: `"owned_by": "organization_owner"`.
- Ollama's OpenAI-compatible API (`/v1` on Ollama): `"owned_by": "library"`; its
  version from `/api/version`.
- mlx_lm.server: Python's `http.server` (`Server: BaseHTTP/0.6 Python/3.x`); it
  says its version only in chat replies (`system_fingerprint`).
- llama-cpp-python's server (`python -m llama_cpp.server`, what scripts/develop
  runs): FastAPI on uvicorn, `/openapi.json` titled "🦙 llama.cpp Python API" with
  the package version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..redact import redact_url

# `ServerInfo.name` of each kind.
LLAMA_CPP = "llama.cpp"
VLLM = "vLLM"
LM_STUDIO = "LM Studio"
OLLAMA = "Ollama"
MLX_LM = "mlx_lm.server"
OPENAI_COMPATIBLE = "OpenAI-compatible server"

_OWNED_BY = {
    "llamacpp": LLAMA_CPP,
    "vllm": VLLM,
    "organization_owner": LM_STUDIO,
    "library": OLLAMA,
}


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """A server as people know it.

    `name` is its kind ("llama.cpp", "Ollama", "OpenAI-compatible server"),
    `software` the program that answered when that is more precise
    ("llama-server", "llama-cpp-python"), `version` what it says of its version;
    None where it does not say.
    """

    name: str
    software: str | None = None
    version: str | None = None

    @property
    def model(self) -> str:
        """The device model: the program, else the kind."""
        return self.software or self.name


def host(url: str) -> str:
    """Return the host of `url` ("nas.local", "127.0.0.1").

    No scheme, port, path or credentials; the redacted URL when it has no host.
    """
    return urlsplit(url).hostname or redact_url(url)


def describe(info: ServerInfo, url: str) -> str:
    """Return "<kind> on <host>" for titles and device names ("Ollama on nas.local")."""
    return f"{info.name} on {host(url)}"


def title(servers: list[tuple[ServerInfo, str]]) -> str:
    """Return a config entry's title from its servers, preferred first, with URLs.

    "llama.cpp on 127.0.0.1"; Auto: "llama.cpp on 127.0.0.1 + Ollama on nas.local".
    """
    return " + ".join(describe(info, url) for info, url in servers)


def url_title(urls: list[str]) -> str:
    """Return the title entries were given before 0.2: their URLs, redacted.

    An entry still titled so is retitled at setup (`title`); any other title was
    chosen by its user and stays.
    """
    return " + ".join(redact_url(url) for url in urls)


def kind_of_openai_server(models: Any, server_header: str | None) -> str | None:
    """Return the kind of an OpenAI-compatible server, or None when unknown.

    From its `/v1/models` body and `Server` response header (see the module doc).
    """
    header = (server_header or "").lower()
    if "llama.cpp" in header or "llama-server" in header:
        return LLAMA_CPP
    entries = models.get("data") if isinstance(models, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        owner = entry.get("owned_by") if isinstance(entry, dict) else None
        if isinstance(owner, str) and owner in _OWNED_BY:
            return _OWNED_BY[owner]
    if header.startswith("basehttp/"):
        return MLX_LM
    return None


def llama_cpp_build(props: Any) -> str | None:
    """Return llama-server's build ("b6123-1a2b3c4") from its `/props` body."""
    if isinstance(props, dict) and isinstance(build := props.get("build_info"), str):
        return build or None
    return None


def llama_cpp_python_version(openapi: Any) -> str | None:
    """Return llama-cpp-python's version from its server's `/openapi.json`.

    None unless `openapi` is that server's ("🦙 llama.cpp Python API").
    """
    info = openapi.get("info") if isinstance(openapi, dict) else None
    if not isinstance(info, dict) or "llama.cpp" not in str(info.get("title", "")):
        return None
    version = info.get("version")
    return str(version) if version else None


def version_field(body: Any) -> str | None:
    """Return `body["version"]` as text (vLLM `/version`, Ollama `/api/version`)."""
    if isinstance(body, dict) and (version := body.get("version")):
        return str(version)
    return None

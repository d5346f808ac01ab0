"""An agent's settings: its config subentry's data, typed, over the defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .const import (
    BACKEND_OLLAMA,
    CONF_CLASSIFY_MODEL,
    CONF_CONTROL_TOOLS,
    CONF_FALLBACK_MODEL,
    CONF_FIRST_TOKEN_TIMEOUT,
    CONF_KEEP_ALIVE,
    CONF_LLM_GREETINGS,
    CONF_MAX_HISTORY,
    CONF_MAX_TOKENS,
    CONF_MODEL,
    CONF_NUM_CTX,
    CONF_PROMPT,
    CONF_TEMPERATURE,
    CONF_TOTAL_TIMEOUT,
    DEFAULT_CONTROL_TOOLS,
    DEFAULT_FIRST_TOKEN_TIMEOUT,
    DEFAULT_KEEP_ALIVE,
    DEFAULT_LLM_GREETINGS,
    DEFAULT_MAX_HISTORY,
    DEFAULT_MAX_TOKENS,
    DEFAULT_NUM_CTX,
    DEFAULT_PROMPT,
    DEFAULT_TEMPERATURE,
    DEFAULT_TOTAL_TIMEOUT,
)


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """One agent's options. Times in seconds; `keep_alive` -1 keeps the model loaded.

    `fallback_model` is the model on Auto's Ollama side; `classify_model` the
    optional classification model ("" when off).
    """

    model: str = ""
    fallback_model: str = ""
    classify_model: str = ""
    prompt: str = DEFAULT_PROMPT
    temperature: float = DEFAULT_TEMPERATURE
    max_tokens: int = DEFAULT_MAX_TOKENS
    first_token_timeout: float = DEFAULT_FIRST_TOKEN_TIMEOUT
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT
    keep_alive: int = DEFAULT_KEEP_ALIVE
    num_ctx: int = DEFAULT_NUM_CTX
    max_history: int = DEFAULT_MAX_HISTORY
    control_tools: bool = DEFAULT_CONTROL_TOOLS
    llm_greetings: bool = DEFAULT_LLM_GREETINGS

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AgentSettings:
        """Return the settings of a subentry's `data` (missing keys: defaults)."""
        defaults = cls()
        return cls(
            model=str(data.get(CONF_MODEL) or ""),
            fallback_model=str(data.get(CONF_FALLBACK_MODEL) or ""),
            classify_model=str(data.get(CONF_CLASSIFY_MODEL) or ""),
            prompt=str(data.get(CONF_PROMPT, defaults.prompt)).strip(),
            temperature=float(data.get(CONF_TEMPERATURE, defaults.temperature)),
            max_tokens=int(data.get(CONF_MAX_TOKENS, defaults.max_tokens)),
            first_token_timeout=float(
                data.get(CONF_FIRST_TOKEN_TIMEOUT, defaults.first_token_timeout)
            ),
            total_timeout=float(data.get(CONF_TOTAL_TIMEOUT, defaults.total_timeout)),
            keep_alive=int(data.get(CONF_KEEP_ALIVE, defaults.keep_alive)),
            num_ctx=int(data.get(CONF_NUM_CTX, defaults.num_ctx)),
            max_history=int(data.get(CONF_MAX_HISTORY, defaults.max_history)),
            control_tools=bool(data.get(CONF_CONTROL_TOOLS, defaults.control_tools)),
            llm_greetings=bool(data.get(CONF_LLM_GREETINGS, defaults.llm_greetings)),
        )

    def model_for(self, kind: str) -> str:
        """Return the model this agent runs on a backend of `kind`.

        Auto's Ollama side has its own model (`fallback_model`); otherwise `model`.
        """
        if kind == BACKEND_OLLAMA and self.fallback_model:
            return self.fallback_model
        return self.model

"""Constants for the Athena integration: every option next to its default and bounds."""

from typing import Final

DOMAIN: Final = "athena"

# Config entry (the server side): which backend(s) and where.
# Entry data of VERSION 1 said "mlx" for every OpenAI-compatible server; see
# `__init__.async_migrate_entry`.
CONF_BACKEND: Final = "backend"
BACKEND_OLLAMA: Final = "ollama"
BACKEND_OPENAI: Final = "openai"  # mlx_lm.server, llama.cpp, vLLM, LM Studio
BACKEND_AUTO: Final = "auto"  # OpenAI-compatible first, Ollama as fallback
BACKEND_TYPES: Final = (BACKEND_OLLAMA, BACKEND_OPENAI, BACKEND_AUTO)
CONF_OLLAMA_URL: Final = "ollama_url"
CONF_OPENAI_URL: Final = "openai_url"
URL_KEYS: Final = {BACKEND_OLLAMA: CONF_OLLAMA_URL, BACKEND_OPENAI: CONF_OPENAI_URL}
# The backends of each backend type, in the order they are tried.
BACKENDS_OF_TYPE: Final = {
    BACKEND_OLLAMA: (BACKEND_OLLAMA,),
    BACKEND_OPENAI: (BACKEND_OPENAI,),
    BACKEND_AUTO: (BACKEND_OPENAI, BACKEND_OLLAMA),
}

# Entry option: concurrent requests per backend (a local server only runs requests in
# parallel up to its own lanes, e.g. OLLAMA_NUM_PARALLEL or llama.cpp's --parallel).
CONF_LANES: Final = "lanes"
DEFAULT_LANES: Final = 1
MAX_LANES: Final = 16

# Entry options about the household, for the weather, sports and airport answers.
CONF_WEATHER_ENTITY: Final = "weather_entity"  # default: the first weather entity
CONF_FAVOURITE_TEAMS: Final = "favourite_teams"  # "ravens", "nfl giants", ...
CONF_HOME_AIRPORT: Final = "home_airport"  # IATA code

VALIDATE_TIMEOUT: Final = 5.0  # seconds to list models in the config flow and at setup
# Entry data also holds HA's CONF_API_KEY ("api_key"): an optional key for the
# OpenAI-compatible server, sent as "Authorization: Bearer <key>".

# Per request: a turn waits at most this long for a free lane (then "busy"); the
# first-token timeout starts when the request is sent, after the lane wait.
LANE_WAIT_TIMEOUT: Final = 10.0  # seconds
# Auto: a backend that failed before its first token (timeout, unreachable, HTTP
# error) is skipped this long while the next one answers; the health check probes it.
BACKEND_COOLDOWN: Final = 60.0  # seconds
# Model output is capped at the backend boundary (the token cap is max_tokens).
MAX_REPLY_CHARS: Final = 2000
PROBE_TIMEOUT: Final = 30.0  # seconds for a typed model name to answer one token

# Subentry (one per conversation agent).
SUBENTRY_CONVERSATION: Final = "conversation"
CONF_MODEL: Final = "model"
CONF_FALLBACK_MODEL: Final = "fallback_model"  # Auto only: the model on the Ollama side
CONF_CLASSIFY_MODEL: Final = "classify_model"
CONF_PROMPT: Final = "prompt"
DEFAULT_PROMPT: Final = (
    "You are Athena, a voice assistant in a smart home. "
    "Answer in one or two short spoken sentences, no lists or markdown. "
    "Use the context given with a question; if you do not know, say so."
)
CONF_TEMPERATURE: Final = "temperature"
DEFAULT_TEMPERATURE: Final = 0.3
CONF_MAX_TOKENS: Final = "max_tokens"
DEFAULT_MAX_TOKENS: Final = 256  # always sent: mlx_lm.server defaults to 100
CONF_FIRST_TOKEN_TIMEOUT: Final = "first_token_timeout"
DEFAULT_FIRST_TOKEN_TIMEOUT: Final = 30.0  # seconds; a cold model load counts here
CONF_TOTAL_TIMEOUT: Final = "total_timeout"
DEFAULT_TOTAL_TIMEOUT: Final = 90.0  # seconds for the whole reply
CONF_KEEP_ALIVE: Final = "keep_alive"
DEFAULT_KEEP_ALIVE: Final = 1800  # seconds (30 min); -1 keeps the model loaded forever
CONF_NUM_CTX: Final = "num_ctx"
DEFAULT_NUM_CTX: Final = 4096
MIN_NUM_CTX: Final = 512
CONF_MAX_HISTORY: Final = "max_history"
DEFAULT_MAX_HISTORY: Final = 10  # turns (a user message and its reply)
CONF_CONTROL_TOOLS: Final = "control_tools"  # LLM may control devices (HA's Assist API)
DEFAULT_CONTROL_TOOLS: Final = False
CONF_LLM_GREETINGS: Final = "llm_greetings"  # greetings answered by the LLM
DEFAULT_LLM_GREETINGS: Final = False

EVENT_ANNOUNCE: Final = "athena_announce"  # {"message", "satellite"} for satellites

DEFAULT_AGENT_NAME: Final = "Athena"
MAX_TOOL_ITERATIONS: Final = 5
MAX_COMPOUND_PARTS: Final = 4  # parts of "... and ..." answered; the rest is skipped
MAX_INPUT_CHARS: Final = 2000  # longer input is refused with a spoken message

"""Optional LLM classification for what the router's rules leave as `general`.

Off unless the agent names a classification model. The model gets a fixed
instruction and the utterance and must answer one word; answers are cached per
utterance (LRU). Any failure or an unknown word keeps `general`.
"""

from __future__ import annotations

from collections import OrderedDict
import logging

from .backends import Backend, BackendError, ChatRequest, Timeouts, async_chat
from .router import Category, Route, reroute
from .sources.registry import SOURCES

_LOGGER = logging.getLogger(__name__)

_LABELS = {category.value: category for category in SOURCES}
INSTRUCTION = (
    f"Sort the user's request into one of: {', '.join(_LABELS)}, general. "
    "Answer with that one word only."
)
CACHE_SIZE = 256
TIMEOUTS = Timeouts(first_token=5.0, total=10.0)  # seconds


class Classifier:
    """Classifies with `model` on `backend`; remembers the last `CACHE_SIZE` answers."""

    def __init__(self, backend: Backend, model: str, keep_alive: int) -> None:
        self.backend = backend
        self.model = model
        self.keep_alive = keep_alive
        self._cache: OrderedDict[str, Category] = OrderedDict()

    async def async_route(self, decision: Route) -> Route:
        """Return `decision` (a `general` route) re-routed when the model places it.

        The slots come from the router's own extractors (`reroute`); a category
        whose slots cannot be found stays `general`.
        """
        text = decision.text
        if (category := self._cache.get(text)) is None:
            category = await self._async_ask(text)
            self._cache[text] = category
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(text)
        if category is Category.GENERAL:
            return decision
        return reroute(text, category) or decision

    async def _async_ask(self, text: str) -> Category:
        request = ChatRequest(
            model=self.model,
            messages=[
                {"role": "system", "content": INSTRUCTION},
                {"role": "user", "content": text},
            ],
            max_tokens=3,
            temperature=0.0,
            num_ctx=512,
            keep_alive=self.keep_alive,
        )
        try:
            answer = "".join(
                [d.content async for d in async_chat(self.backend, request, TIMEOUTS)]
            )
        except BackendError as err:
            _LOGGER.info("Classification failed, keeping general: %s", err)
            return Category.GENERAL
        word = (
            answer.strip().split()[0].strip(".,!\"'").lower() if answer.strip() else ""
        )
        return _LABELS.get(word, Category.GENERAL)

"""Sentences Athena says without a model: local answers and error messages.

Every sentence is in strings.json (`replies` and `exceptions`), looked up through HA's
translation cache for the conversation's language, English as the fallback.
"""

from __future__ import annotations

from datetime import datetime

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN


async def async_sentence(
    hass: HomeAssistant,
    language: str | None,
    category: str,
    key: str,
    **placeholders: str,
) -> str:
    """Return the translated sentence `component.athena.<category>.<key>[.message]`.

    `category` is "replies" or "exceptions"; `placeholders` fill `{name}` fields.
    Falls back to English, then to the key itself.
    """
    lang = (language or hass.config.language or "en").split("-")[0]
    prefix = f"component.{DOMAIN}.{category}.{key}"
    for candidate in (lang, "en"):
        strings = await async_get_translations(hass, candidate, category, {DOMAIN})
        text = strings.get(prefix) or strings.get(f"{prefix}.message")
        if text:
            return text.format(**placeholders) if placeholders else text
    return key


def clock_placeholders(now: datetime, language: str | None) -> dict[str, str]:
    """Return `{time, weekday, date}` for `now` (local time), in a spoken form.

    English gets a 12-hour clock ("3:05 PM"), other languages a 24-hour one.
    """
    english = (language or "en").startswith("en")
    hour = now.strftime("%I").lstrip("0") if english else now.strftime("%H")
    time = f"{hour}:{now:%M} {now:%p}" if english else f"{hour}:{now:%M}"
    return {
        "time": time,
        "weekday": now.strftime("%A"),
        "date": f"{now:%B} {now.day}, {now.year}",
    }

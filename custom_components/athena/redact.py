"""Credentials in server URLs: redacted for people, split out for requests.

A backend URL may carry HTTP Basic credentials (`http://user:pass@host:port`).
`redact_url` is the one function that hides them wherever a URL is logged, shown in
a form, stored in a repair issue or used as a title; `split_credentials` takes them
out of the URL so that the HTTP clients send them as a header and never see them in
the URL they put into their own error messages.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

# "://" then the userinfo up to the last "@" before the path: a password may hold
# a raw "@" (urllib splits at the last one too).
_USERINFO = re.compile(r"://[^/?#\s]*@")


def redact_url(text: str) -> str:
    """Return `text` with the userinfo of every URL in it replaced by `***`.

    `http://user:pass@host:11434` -> `http://***@host:11434`; `http://user@host` ->
    `http://***@host`; text without credentials is returned unchanged.
    """
    return _USERINFO.sub("://***@", text)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """Return `url` without its userinfo, and `(user, password)` from it or None.

    The user and password are percent-decoded (RFC 3986 section 3.2.1); a user
    without a password gives an empty password.
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), (unquote(user), unquote(password))

"""Tokens and the partner secret out of any text that leaves the process.

An error body may echo the request back, and a gateway may echo it encoded: plain
(`hdnea=st=1~exp=2~acl=/*~hmac=<hex>`), percent-encoded once or twice (`hmac%3D<hex>`,
`hmac%253D<hex>`), or JSON-escaped (`hmac\\u003d<hex>`). Each of those loses its signature,
with the token's other parts, and the partner secret goes in either case. Messages built
from such bodies (errors, the sync log, the JSON API, alerts) pass through `redact`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"

# "=" and "~" as a body may carry them: plain, percent-encoded (once or more), JSON-escaped.
_EQ = r"(?:=|%(?:25)*3d|\\+u003d)"
_TILDE = r"(?:~|%(?:25)*7e|\\+u007e)"
#: An EdgeAuth token, or any part of one that carries its signature.
TOKEN = re.compile(
    rf"(?:(?:hdnea{_EQ})?(?:st|exp|acl){_EQ}(?:(?!{_TILDE})[^\s\"'&,;])*{_TILDE})*"
    rf"hmac{_EQ}[0-9a-f]+",
    re.IGNORECASE,
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without any token (in any encoding above) and without any of `secrets`
    (case-insensitive)."""
    text = TOKEN.sub(REDACTED, text)
    for secret in secrets:
        if secret:
            text = re.sub(re.escape(secret), REDACTED, text, flags=re.IGNORECASE)
    return text

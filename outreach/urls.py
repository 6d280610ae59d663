"""Checks on addresses that come from the request, such as ``next`` parameters."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

# How often a target is percent-decoded to look for a hidden '//' (each proxy may decode once).
_DECODE_ROUNDS = 3


def is_local_path(target: str) -> bool:
    """True for a path on this site ('/events?x=1'); false for '//host', 'http:' and tricks.

    Only printable ASCII passes: browsers read '\\' as '/' and drop tabs and line
    breaks, so '/\\host' or '/\\t/host' would leave the site, and a line break could
    end the Location header. A slash or backslash that is percent-encoded at the
    start ('/%2F%2Fhost') is refused too, in case something in front decodes it.
    """
    if not isinstance(target, str) or not _plain_path(target):
        return False
    decoded = target
    for _round in range(_DECODE_ROUNDS):
        decoded = unquote(decoded)
        # What a browser would drop from it (tabs, line breaks) hides nothing either.
        visible = "".join(char for char in decoded if char.isprintable())
        if not _plain_path(visible, check_characters=False):
            return False
    return True


def _plain_path(target: str, *, check_characters: bool = True) -> bool:
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if check_characters and (
        not target.isascii() or "\\" in target or any(not char.isprintable() for char in target)
    ):
        return False
    try:
        parts = urlsplit(target)
    except ValueError:
        return False
    return not parts.scheme and not parts.netloc

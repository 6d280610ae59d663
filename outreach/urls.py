"""Checks on addresses that come from the request, such as ``next`` parameters."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_local_path(target: str) -> bool:
    """True for a path on this site ('/events?x=1'); false for '//host', 'http:' and tricks."""
    if not target.startswith("/") or target.startswith("//"):
        return False
    # Browsers read '\' as '/' and drop tabs and newlines: '/\host' would leave the site.
    if "\\" in target or any(ord(char) < 0x21 or ord(char) == 0x7F for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc

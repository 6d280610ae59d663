"""Choosing the best language version of a piece of content."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")

FALLBACK_ORDER = ("de", "en")


def pick_translation(versions: Mapping[str, T], locale: str) -> T | None:
    """Return the version in ``locale``, else German, else English, else any."""
    for candidate in (locale, *FALLBACK_ORDER):
        if versions.get(candidate):
            return versions[candidate]
    for value in versions.values():
        if value:
            return value
    return None

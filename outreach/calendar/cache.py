"""A small in-process cache for built feeds, keyed by what the feed shows.

Building a feed of thousands of events takes a while; calendar apps poll
feeds every hour or so, mostly getting the same bytes. A cached body is used
while the feed's fingerprint (one aggregate query) is unchanged, and for at
most ``max_age`` seconds, which bounds staleness from changes the
fingerprint cannot see (an organisation renamed, a topic relabelled).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class TimedCache(Generic[T]):
    def __init__(self, *, max_entries: int = 64, max_age: float = 300.0):
        self.max_entries = max_entries
        self.max_age = max_age
        self._entries: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(self, key: Hashable, build: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry[0] < self.max_age:
                self._entries.move_to_end(key)
                return entry[1]
        value = build()  # outside the lock: two builders at worst, never a stall
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

"""A send rate that holds across every worker process on one machine.

The next free sending slot lives in a small file; a process takes the slot
under an exclusive file lock and moves it on by one interval, then waits
for its slot outside the lock. No server is needed, and a crashed worker
leaves nothing to clean up.
"""

from __future__ import annotations

import fcntl
import os
import struct
import time
from pathlib import Path

SLOT = struct.Struct("d")


class MachineRateLimiter:
    def __init__(self, per_second: float, path: str | Path):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.path = Path(path)

    def wait(self) -> None:
        """Block until this process may send one message."""
        if not self.interval:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            data = os.pread(descriptor, SLOT.size, 0)
            next_free = SLOT.unpack(data)[0] if len(data) == SLOT.size else 0.0
            # time.time(), not monotonic: the slot is shared between processes.
            now = time.time()
            slot = max(now, next_free)
            os.pwrite(descriptor, SLOT.pack(slot + self.interval), 0)
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)
        if slot > now:
            time.sleep(slot - now)

"""The webhook's signature: HMAC-SHA256 over the timestamp and the raw body.

The sender computes ``hex(HMAC-SHA256(secret, f"{timestamp}." + body))`` and
sends it as ``X-Outreach-Signature: sha256=<hex>``, with the Unix time in
``X-Outreach-Timestamp``. The timestamp is signed too, so a captured request
cannot be replayed later with a fresh one; requests older (or newer) than
five minutes are refused.
"""

from __future__ import annotations

import hashlib
import hmac

from flask_babel import gettext as _

SIGNATURE_HEADER = "X-Outreach-Signature"
TIMESTAMP_HEADER = "X-Outreach-Timestamp"
MAX_AGE_SECONDS = 300
_PREFIX = "sha256="


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return the header value that signs ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return _PREFIX + mac.hexdigest()


def signature_problem(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, *, now: float
) -> str | None:
    """Say why a request's signature is not acceptable, or return None when it is."""
    if not timestamp or not signature:
        return _("The request is not signed.")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return _("The timestamp is not a Unix time.")
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return _("The timestamp is more than five minutes away from now.")
    expected = sign(secret, timestamp, body).encode("ascii")
    if not hmac.compare_digest(expected, signature.strip().lower().encode("utf-8", "replace")):
        return _("The signature does not match.")
    return None

"""Security at the edges: response headers, the secret key, and the proxy in front.

Every HTML page gets a Content-Security-Policy that allows our own scripts,
styles, pictures and frames and nothing inline, so markup someone slips into
a page cannot run. A view that serves foreign markup (an email's HTML in a
sandbox) sets its own, stricter policy; it is never overwritten here. Every
response also says ``nosniff``, keeps the referrer to our own origin, allows
the camera to our own pages only (the check-in scanner), and in production
tells browsers to use HTTPS alone (HSTS).

An app that is neither in debug mode nor testing refuses to start with the
development secret key or a short one: every signed link (reset,
unsubscribe, check-in) and every session is only as safe as that key.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from config import DEV_SECRET_KEY

MIN_SECRET_KEY_LENGTH = 32

# The policy every HTML page gets, unless its view set one itself.
# - frame-src 'self': the campaign preview and the dev mailbox frame pages of our own
#   (those pages set their own sandboxing policy).
# - img-src adds the origin of BASE_URL: pictures in the newsletter archive are
#   addressed absolutely, and a site reached under another name still shows them.
# - connect-src falls back to 'self': the check-in page and the campaign form fetch
#   JSON from us; the camera stream needs no source.
BASE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# The camera for the check-in scanner on our own pages; nothing else a page may ask for.
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
REFERRER_POLICY = "strict-origin-when-cross-origin"


def init_security(app: Flask) -> None:
    """Check the secret key, trust the configured proxies, and add the headers to responses."""
    refuse_unsafe_secret_key(app)
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops > 0:
        # The client's address (rate limits) and the scheme (secure cookies, HSTS) as the
        # proxies in front saw them; the Host header is left alone (links use BASE_URL).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.after_request(add_security_headers)


def refuse_unsafe_secret_key(app: Flask) -> None:
    """Raise RuntimeError when a production app would sign with a known or weak key."""
    if app.debug or app.testing:
        return
    key = app.config.get("SECRET_KEY") or ""
    if key == DEV_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(
            "Outreach will not start: SECRET_KEY is "
            + ("the development default" if key == DEV_SECRET_KEY else "missing or too short")
            + f". Set the SECRET_KEY environment variable to a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters, for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`, and keep it "
            "the same across restarts and processes. (Only development, OUTREACH_ENV="
            "development, and the tests run with the built-in key.)"
        )


@lru_cache(maxsize=8)
def content_security_policy(base_url: str = "") -> str:
    """The page policy as a header value, with BASE_URL's origin allowed for pictures."""
    directives = dict(BASE_POLICY)
    parts = urlsplit(base_url)
    if parts.scheme in ("http", "https") and parts.netloc:
        directives["img-src"] += f" {parts.scheme}://{parts.netloc}"
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _hsts_applies() -> bool:
    return request.is_secure or current_app.config.get("PREFERRED_URL_SCHEME") == "https"


def add_security_headers(response: Response) -> Response:
    """Add the headers a view did not set itself (a view's own value always wins)."""
    headers = response.headers
    if response.mimetype == "text/html" and "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = content_security_policy(
            current_app.config.get("BASE_URL", "")
        )
        # For browsers that predate frame-ancestors.
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    seconds = int(current_app.config.get("HSTS_SECONDS") or 0)
    if seconds > 0 and _hsts_applies():
        headers.setdefault("Strict-Transport-Security", f"max-age={seconds}")
    return response

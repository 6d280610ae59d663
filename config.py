"""Configuration classes; every value can be set from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def normalise_database_url(value: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    return value


# Development only; issue 7 makes production refuse to start with it.
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'outreach.sqlite'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "outreach@localhost")
    # Never let Flask-Mail drop mail silently (it does in testing by default); the
    # development mailbox is how nothing leaves the machine.
    MAIL_SUPPRESS_SEND = False
    # With no MAIL_SERVER, mail goes to .eml files here (listed at /dev/mailbox in development).
    MAILBOX_DIR = os.environ.get("MAILBOX_DIR", str(INSTANCE_DIR / "mailbox"))
    # Messages per second across this machine's workers; 0 means no limit.
    MAIL_SEND_RATE = float(os.environ.get("MAIL_SEND_RATE", "0"))
    MAIL_BATCH_SIZE = _int("MAIL_BATCH_SIZE", 100)
    # How long a worker may hold claimed messages before another one takes them over.
    MAIL_LEASE_SECONDS = _int("MAIL_LEASE_SECONDS", 300)
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 8)
    MAIL_SMTP_TIMEOUT = _int("MAIL_SMTP_TIMEOUT", 30)
    # Bulk mail's List-Unsubscribe offers mailto:<this> too when set (someone must read it).
    MAIL_UNSUBSCRIBE_ADDRESS = os.environ.get("MAIL_UNSUBSCRIBE_ADDRESS") or None
    # The worker's scheduler (reminders) runs this often, in seconds.
    SCHEDULER_INTERVAL = _int("SCHEDULER_INTERVAL", 60)
    # Delivery feedback. The provider's webhook (POST /hooks/delivery) exists only with a
    # secret; `flask outreach bounces fetch` reads the bounce mailbox over IMAP with TLS
    # (the host may carry a port: "imap.example.org:993").
    DELIVERY_WEBHOOK_SECRET = os.environ.get("DELIVERY_WEBHOOK_SECRET") or None
    BOUNCE_IMAP_HOST = os.environ.get("BOUNCE_IMAP_HOST") or None
    BOUNCE_IMAP_USER = os.environ.get("BOUNCE_IMAP_USER") or None
    BOUNCE_IMAP_PASSWORD = os.environ.get("BOUNCE_IMAP_PASSWORD") or None
    BOUNCE_IMAP_FOLDER = os.environ.get("BOUNCE_IMAP_FOLDER", "INBOX")
    # This many soft bounces to one address within 30 days suppress it like a hard bounce.
    SOFT_BOUNCE_LIMIT = _int("SOFT_BOUNCE_LIMIT", 3)

    LANGUAGES = ("de", "en")
    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    LANGUAGE_COOKIE = "lang"

    SITE_NAME = os.environ.get("SITE_NAME", "Outreach")
    # The address the privacy notice gives for data-protection questions (default: the sender).
    PRIVACY_CONTACT = os.environ.get("PRIVACY_CONTACT") or None
    # Registrations are anonymised this many days after their event ended (an event may set
    # its own period); finished outbox rows lose address and content after OUTBOX_RETENTION_DAYS.
    RETENTION_DAYS = _int("RETENTION_DAYS", 90)
    OUTBOX_RETENTION_DAYS = _int("OUTBOX_RETENTION_DAYS", 30)
    EVENTS_PER_PAGE = 12
    # Calendar feeds: how long cancelled and past events stay in them, and cache lifetime.
    CALENDAR_KEEP_DAYS = _int("CALENDAR_KEEP_DAYS", 30)
    CALENDAR_MAX_AGE = _int("CALENDAR_MAX_AGE", 900)
    # How long a manage link keeps working after its event has ended.
    MANAGE_LINK_GRACE_DAYS = _int("MANAGE_LINK_GRACE_DAYS", 30)
    # A duplicate registration sends at most one "your link" mail per window.
    MANAGE_LINK_RESEND_MINUTES = _int("MANAGE_LINK_RESEND_MINUTES", 10)

    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    # Counts in this process's memory, or shared by every process and machine with
    # RATELIMIT_STORAGE_URI=redis://host:6379/0; while Redis is unreachable, in memory.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_API = os.environ.get("RATELIMIT_API", "120 per minute")
    RATELIMIT_API_WRITE = os.environ.get("RATELIMIT_API_WRITE", "20 per minute")
    # Login attempts per client address, successful ones included.
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute")
    # "Forgot your password" requests per client address.
    RATELIMIT_PASSWORD_RESET = os.environ.get("RATELIMIT_PASSWORD_RESET", "5 per minute")
    # Registrations for events on the public pages (POST), per client address.
    RATELIMIT_REGISTER = os.environ.get("RATELIMIT_REGISTER", "10 per minute")
    # Partner applications (the public "become a partner" form), per client address.
    RATELIMIT_APPLY = os.environ.get("RATELIMIT_APPLY", "10 per hour")
    # One-click unsubscribes: providers send many from few addresses.
    RATELIMIT_UNSUBSCRIBE = os.environ.get("RATELIMIT_UNSUBSCRIBE", "120 per minute")
    # Newsletter sign-ups (double opt-in) per client address.
    RATELIMIT_NEWSLETTER = os.environ.get("RATELIMIT_NEWSLETTER", "10 per hour")
    # Data-protection requests on /privacy/request (an emailed link each), per client address.
    RATELIMIT_PRIVACY_REQUEST = os.environ.get("RATELIMIT_PRIVACY_REQUEST", "5 per hour")

    # How long an emailed link to set a password works, in seconds.
    PASSWORD_RESET_MAX_AGE = _int("PASSWORD_RESET_MAX_AGE", 3600)
    INVITATION_MAX_AGE = _int("INVITATION_MAX_AGE", 7 * 24 * 3600)

    # Public forms sent back sooner than this after they were shown are shown again
    # (a time trap for robots, outreach/public/robot_trap.py); 0 turns it off.
    FORM_MIN_SECONDS = float(os.environ.get("FORM_MIN_SECONDS", "2"))
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Behind a reverse proxy: how many proxies in front add X-Forwarded-For and
    # X-Forwarded-Proto (0: none, the client connects directly).
    PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)
    # Strict-Transport-Security max-age in seconds (0: none); sent over HTTPS, or always
    # when PREFERRED_URL_SCHEME is https (production, where TLS may end at the proxy).
    HSTS_SECONDS = _int("HSTS_SECONDS", 0)
    # Uploaded organisation logos (checked, re-encoded); default instance/uploads/logos.
    LOGO_DIR = os.environ.get("LOGO_DIR") or None
    # Pictures of newsletter contributions; default instance/uploads/contributions.
    CONTRIBUTION_IMAGE_DIR = os.environ.get("CONTRIBUTION_IMAGE_DIR") or None
    # How long a newsletter confirmation (double opt-in) link works, in seconds.
    NEWSLETTER_CONFIRMATION_MAX_AGE = _int("NEWSLETTER_CONFIRMATION_MAX_AGE", 7 * 24 * 3600)
    # How long the emailed link of a data-protection request works, in seconds.
    PRIVACY_REQUEST_MAX_AGE = _int("PRIVACY_REQUEST_MAX_AGE", 48 * 3600)
    # Key of the salted hash that keeps an erased person's unsubscribe on the suppression
    # list (outreach/mail/suppression.py). Default: derived from SECRET_KEY. It must stay
    # the same for good: set it before you ever change SECRET_KEY, or those entries stop
    # matching the address.
    PRIVACY_HASH_KEY = os.environ.get("PRIVACY_HASH_KEY") or None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=_int("REMEMBER_COOKIE_DAYS", 30))
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    DEV_TOOLS = False


class DevelopmentConfig(Config):
    DEBUG = True
    # /dev/outbox: the messages owed and their links, until the mail worker exists.
    DEV_TOOLS = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"  # noqa: S105  (tests only)
    # tests/conftest.py chooses the database (SQLite, and PostgreSQL when
    # TEST_DATABASE_URL is set); this default only serves ad-hoc use.
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    # scrypt at a fraction of its cost: hundreds of test users, same code path.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105  (a method name, no secret)
    RATELIMIT_ENABLED = False
    # Test clients send forms at once; tests of the time trap turn it on.
    FORM_MIN_SECONDS = 0.0
    BASE_URL = "http://outreach.test"
    MAIL_SERVER = None


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    HSTS_SECONDS = _int("HSTS_SECONDS", 31536000)


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """Pick the configuration class named by OUTREACH_ENV (default: development)."""
    return CONFIGS[os.environ.get("OUTREACH_ENV", "development")]

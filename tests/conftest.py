"""Fixtures: an app on a real database, clients, and factories for test data.

Every test that uses ``app`` runs on SQLite, and also on PostgreSQL when
TEST_DATABASE_URL names one (``make test`` in CI does). The schema is built
by the Alembic migrations, as in production; each test starts with empty tables.
"""

from __future__ import annotations

import itertools
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.globals import _cv_app
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, make_url, select, text

from config import TestingConfig, normalise_database_url
from outreach import create_app
from outreach.extensions import db
from outreach.models import (
    Event,
    EventStatus,
    EventTranslation,
    Organisation,
    OutboxMessage,
    Registration,
    RegistrationQuestion,
    Role,
    Topic,
    User,
    event_hosts,
    utcnow,
)
from outreach.services.event_editing import EventInput
from outreach.services.registration_input import RegistrationDetails
from outreach.services.registrations import register
from outreach.services.users import create_user

PASSWORD = "correct horse battery staple"


def _backends() -> list[str]:
    backends = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL"):
        backends.append("postgresql")
    return backends


def worker_suffix() -> str:
    """``_gw0``, ``_gw1``, … under pytest-xdist (each worker has its own databases), else ''."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"_{worker}" if worker else ""


def _own_postgresql_database(url: str) -> str:
    """The URL of this xdist worker's own database next to ``url``, created if missing."""
    suffix = worker_suffix()
    if not suffix:
        return url
    name = f"{make_url(url).database}{suffix}"
    server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _reset_postgresql(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def migrated_sqlite(tmp_path_factory) -> str:
    """A fresh SQLite file with the migrated schema; return its URL."""
    return _migrated(f"sqlite:///{tmp_path_factory.mktemp('db') / 'outreach-test.sqlite'}")


def _migrated(url: str) -> str:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session", params=_backends())
def database_url(request, tmp_path_factory) -> str:
    """A database with the migrated schema, one per backend for the whole run."""
    if request.param == "sqlite":
        return migrated_sqlite(tmp_path_factory)
    url = _own_postgresql_database(normalise_database_url(os.environ["TEST_DATABASE_URL"]))
    _reset_postgresql(url)
    return _migrated(url)


def _empty_all_tables() -> None:
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(table.name for table in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(database_url):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


class FreshGlobalsClient(FlaskClient):
    """A test client whose every request gets a fresh ``g``, as in production.

    The ``app`` fixture keeps one application context open for the whole test
    (so the test and the views share a session); without this, ``g`` (and the
    locale Flask-Babel caches there) would leak from one request to the next.
    """

    def open(self, *args, **kwargs):
        context = _cv_app.get(None)
        if context is None:
            return super().open(*args, **kwargs)
        saved = context.g
        context.g = self.application.app_ctx_globals_class()
        try:
            return super().open(*args, **kwargs)
        finally:
            context.g = saved


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = FreshGlobalsClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def backend(app) -> str:
    return db.engine.dialect.name


_numbers = itertools.count(1)


@pytest.fixture
def make_org(app):
    def make(slug: str | None = None, **values) -> Organisation:
        number = next(_numbers)
        org = Organisation(
            slug=slug or f"org-{number}",
            name=values.pop("name", f"Organisation {number}"),
            description=values.pop("description", {"de": "Eine Organisation", "en": "An org"}),
            contact_email=values.pop("contact_email", f"org{number}@example.org"),
            **values,
        )
        db.session.add(org)
        db.session.commit()
        return org

    return make


@pytest.fixture
def make_event(app, make_org):
    """Create a published event starting in a week; keywords override any field.

    Extra keywords: ``hosts`` (organisations), ``topics`` (slugs), ``languages``,
    ``title`` (used for both German and English), ``questions`` (dicts).
    """

    def make(**values) -> Event:
        number = next(_numbers)
        starts_at = values.pop("starts_at", utcnow().replace(microsecond=0) + timedelta(days=7))
        hosts = values.pop("hosts", None) or [make_org()]
        topic_slugs = values.pop("topics", [])
        languages = values.pop("languages", ["de"])
        title = values.pop("title", f"Event {number}")
        questions = values.pop("questions", [])
        event = Event(
            slug=values.pop("slug", f"event-{number}"),
            status=values.pop("status", EventStatus.PUBLISHED),
            starts_at=starts_at,
            ends_at=values.pop("ends_at", starts_at + timedelta(hours=2)),
            venue_name=values.pop("venue_name", "Gemeindehaus"),
            venue_city=values.pop("venue_city", "Berlin"),
            **values,
        )
        event.languages = languages
        event.topics = [_topic(slug) for slug in topic_slugs]
        for locale in ("de", "en"):
            event.translations[locale] = EventTranslation(
                locale=locale, title=title, summary=f"Summary {locale}", description="Text"
            )
        for position, question in enumerate(questions):
            event.questions.append(RegistrationQuestion(position=position, **question))
        db.session.add(event)
        db.session.flush()
        for position, host in enumerate(hosts):
            db.session.execute(
                event_hosts.insert().values(
                    event_id=event.id, organisation_id=host.id, position=position
                )
            )
        db.session.commit()
        return event

    return make


def _topic(slug: str) -> Topic:
    topic = db.session.scalar(select(Topic).where(Topic.slug == slug))
    if topic is None:
        topic = Topic(slug=slug, names={"de": slug.title(), "en": slug.title()})
        db.session.add(topic)
    return topic


@pytest.fixture
def make_user(app, make_org):
    """Create a user: ``make_user("staff")``, or ``make_user("partner", org=...)``.

    A partner without ``org`` gets a new organisation. The password is PASSWORD.
    """

    def make(role: str = "staff", *, org: Organisation | None = None, **values) -> User:
        number = next(_numbers)
        if role == "partner" and org is None:
            org = make_org()
        return create_user(
            email=values.pop("email", f"{role}{number}@example.org"),
            role=Role(role),
            password=values.pop("password", PASSWORD),
            org_slug=org.slug if org else None,
            name=values.pop("name", f"{role.title()} {number}"),
        )

    return make


@pytest.fixture
def login(client):
    """Log ``client`` in as a user (or out, with None); returns the client."""

    def log_in(user: User | None) -> FlaskClient:
        client.post("/logout")
        if user is not None:
            response = client.post("/login", data={"email": user.email, "password": PASSWORD})
            assert response.status_code == 303, "login failed"
        return client

    return log_in


@pytest.fixture
def event_input():
    """An EventInput for a valid bilingual event in two weeks; keywords override fields."""

    def make(**values) -> EventInput:
        starts_at = values.pop("starts_at", utcnow().replace(microsecond=0) + timedelta(days=14))
        return EventInput(
            texts=values.pop(
                "texts",
                {
                    "de": {"title": "Erzählcafé", "summary": "Geschichten", "description": ""},
                    "en": {"title": "Story café", "summary": "Stories", "description": ""},
                },
            ),
            starts_at=starts_at,
            ends_at=values.pop("ends_at", starts_at + timedelta(hours=2)),
            venue_name=values.pop("venue_name", "Nachbarschaftshaus"),
            venue_city=values.pop("venue_city", "Berlin"),
            capacity=values.pop("capacity", 30),
            languages=values.pop("languages", ["de", "en"]),
            **values,
        )

    return make


@pytest.fixture
def details():
    """Build valid RegistrationDetails; keywords override fields."""

    def build(**values) -> RegistrationDetails:
        number = next(_numbers)
        values.setdefault("name", f"Person {number}")
        values.setdefault("email", f"person{number}@example.org")
        values.setdefault("language", "de")
        values.setdefault("consent", True)
        return RegistrationDetails(**values)

    return build


@pytest.fixture
def make_registration(app, details):
    """Register someone through the real service; returns the RegistrationOutcome."""

    def make(event: Event, *, now: datetime | None = None, **values):
        return register(event, details(**values), now=now)

    return make


@pytest.fixture
def counts(app):
    """Return (registrations, outbox rows) as they are in the database now."""

    def count() -> tuple[int, int]:
        db.session.rollback()  # end any open read so the counts are fresh
        return (
            db.session.scalar(select(func.count(Registration.id))),
            db.session.scalar(select(func.count(OutboxMessage.id))),
        )

    return count


@pytest.fixture
def outbox(app):
    """Return the outbox rows, oldest first (a fresh query each call)."""

    def rows(**filters) -> list[OutboxMessage]:
        query = select(OutboxMessage).filter_by(**filters).order_by(OutboxMessage.id)
        return list(db.session.scalars(query))

    return rows


REPO_ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = REPO_ROOT / "outreach" / "translations"


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """Compile the catalogues if needed (``make`` does it too): the pages are German."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)

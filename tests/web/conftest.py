"""Fixtures for the server-rendered pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import OutboxMessage, Registration


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
def counts(app):
    """Return (registrations, outbox rows) as they are in the database now."""

    def count() -> tuple[int, int]:
        db.session.rollback()  # end any open read so the counts are fresh
        return (
            db.session.scalar(select(func.count(Registration.id))),
            db.session.scalar(select(func.count(OutboxMessage.id))),
        )

    return count


REPO_ROOT = Path(__file__).resolve().parents[2]
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

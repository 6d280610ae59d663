"""Engine tuning and the one transaction primitive services need: a write lock.

SQLite allows one writer at a time. A transaction that reads first and writes
later can fail to upgrade its lock, so a service that must decide on fresh data
(is there still a seat?) starts its transaction with ``BEGIN IMMEDIATE``: it
waits for the write lock up front and then reads data no one else can change.
PostgreSQL uses row locks (``SELECT … FOR UPDATE``) on the row that guards the
decision instead.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

from outreach.extensions import db

WRITE_OPTION = "outreach_write_lock"
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def configure_engine(engine: Engine) -> None:
    """Give SQLite WAL, foreign keys, a busy timeout and explicit BEGIN control."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself (see on_begin) instead of pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        if engine.url.database and engine.url.database != ":memory:":
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        immediate = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def begin_write() -> None:
    """Start the session's transaction as a writer.

    A read-only transaction left open by the caller (a view that loaded the
    event to render it) is ended first; loaded objects are refreshed on their
    next use. Pending changes are a programming error, not something to drop.
    """
    session = db.session()
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write() called with unflushed changes")
        session.rollback()
    session.connection(execution_options={WRITE_OPTION: True})

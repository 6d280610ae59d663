"""The Alembic migrations build exactly the schema the models describe, both ways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from config import TestingConfig
from outreach import create_app
from outreach.extensions import db
from tests.conftest import worker_suffix

# One per xdist worker, so parallel runs never drop each other's database.
THROWAWAY_POSTGRESQL_DATABASE = f"outreach_test_svc_migr{worker_suffix()}"


def schema_differences(connection) -> list:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return compare_metadata(context, db.metadata)


def script_directory(app) -> ScriptDirectory:
    migrate = app.extensions["migrate"]
    return ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))


def test_the_migrated_schema_matches_the_models(app):
    with db.engine.connect() as connection:
        assert schema_differences(connection) == []
        current = MigrationContext.configure(connection).get_current_heads()
    scripts = script_directory(app)
    assert len(scripts.get_heads()) == 1, "migrations have branched: merge them"
    assert current == tuple(scripts.get_heads())


@pytest.fixture
def throwaway_url(database_url, tmp_path) -> Iterator[str]:
    """An empty database of the same kind as the test database, dropped afterwards."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    server = create_engine(
        make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    drop = f"DROP DATABASE IF EXISTS {THROWAWAY_POSTGRESQL_DATABASE} WITH (FORCE)"
    try:
        with server.connect() as connection:
            connection.execute(text(drop))
            connection.execute(text(f"CREATE DATABASE {THROWAWAY_POSTGRESQL_DATABASE}"))
        yield (
            make_url(database_url)
            .set(database=THROWAWAY_POSTGRESQL_DATABASE)
            .render_as_string(hide_password=False)
        )
    finally:
        with server.connect() as connection:
            connection.execute(text(drop))
        server.dispose()


def test_downgrade_to_base_and_upgrade_again(throwaway_url):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=throwaway_url)
    with app.app_context():
        try:
            upgrade()
            model_tables = set(db.metadata.tables)
            assert model_tables <= set(inspect(db.engine).get_table_names())

            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}

            upgrade()
            with db.engine.connect() as connection:
                assert schema_differences(connection) == []
                version = connection.execute(text("SELECT version_num FROM alembic_version"))
                assert version.scalar_one()
        finally:
            db.session.remove()
            db.engine.dispose()

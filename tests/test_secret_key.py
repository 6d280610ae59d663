"""Start-up refuses a production app without a real SECRET_KEY; development still starts.

Every signed link (password reset, unsubscribe, check-in) and every session
is only as safe as the key: with the development default, anyone who read
config.py could forge them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import DEV_SECRET_KEY, Config, DevelopmentConfig, ProductionConfig, TestingConfig
from outreach import create_app

REPO_ROOT = Path(__file__).resolve().parents[1]
FLASK = Path(sys.executable).with_name("flask")
STRONG = "k3y-" + "x" * 40


def build(config, **settings):
    return create_app(config, SQLALCHEMY_DATABASE_URI="sqlite://", **settings)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (DEV_SECRET_KEY, "the development default"),
        ("", "missing or too short"),
        (None, "missing or too short"),
        ("s" * 31, "missing or too short"),
    ],
)
@pytest.mark.parametrize("config", [ProductionConfig, Config])
def test_an_app_that_is_neither_debug_nor_testing_refuses_a_weak_key(config, key, reason):
    with pytest.raises(RuntimeError, match=f"SECRET_KEY is {reason}"):
        build(config, SECRET_KEY=key)


def test_the_refusal_says_how_to_fix_it():
    with pytest.raises(RuntimeError) as refusal:
        build(ProductionConfig, SECRET_KEY=DEV_SECRET_KEY)

    assert "Set the SECRET_KEY environment variable" in str(refusal.value)
    assert "secrets.token_urlsafe" in str(refusal.value)


def test_production_starts_with_a_long_random_key():
    app = build(ProductionConfig, SECRET_KEY=STRONG)

    assert app.config["SECRET_KEY"] == STRONG and not app.debug and not app.testing


def test_development_and_tests_start_with_the_built_in_key():
    assert build(DevelopmentConfig, SECRET_KEY=DEV_SECRET_KEY).debug
    assert build(TestingConfig, SECRET_KEY=DEV_SECRET_KEY).testing


def _flask(tmp_path, **environment) -> subprocess.CompletedProcess:
    """Run ``flask --app wsgi routes`` as ``make run`` would start the app."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SECRET_KEY", "OUTREACH_ENV", "FLASK_DEBUG")
    }
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'start.sqlite'}", **environment)
    return subprocess.run(
        [str(FLASK), "--app", "wsgi", "routes"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_run_still_starts_without_a_secret_key(tmp_path):
    # make run: OUTREACH_ENV unset means development, and no SECRET_KEY in the environment.
    result = _flask(tmp_path)

    assert result.returncode == 0, result.stderr
    assert "public.events" in result.stdout


def test_a_production_process_without_a_secret_key_does_not_start(tmp_path):
    refused = _flask(tmp_path, OUTREACH_ENV="production")
    started = _flask(tmp_path, OUTREACH_ENV="production", SECRET_KEY=STRONG)

    assert refused.returncode != 0
    assert "SECRET_KEY is the development default" in refused.stderr
    assert started.returncode == 0, started.stderr

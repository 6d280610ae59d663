"""``flask outreach privacy export|erase``: the same services as the staff pages."""

from __future__ import annotations

import json

from sqlalchemy import select

from outreach.extensions import db
from outreach.models import AuditEntry
from tests.privacy_helpers import everywhere

ADA = "ada@example.org"


def test_export_prints_the_json_and_is_audited(runner, make_event, make_registration):
    make_registration(make_event(title="Erzählcafé"), email=ADA, name="Ada")

    result = runner.invoke(args=["outreach", "privacy", "export", "Ada@Example.org"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["email"] == ADA
    assert [r["event"]["title"] for r in data["registrations"]] == ["Erzählcafé"]
    assert db.session.scalars(select(AuditEntry.comment)).all() == ["cli"]


def test_erase_asks_first_and_then_erases(runner, make_event, make_registration):
    make_registration(make_event(), email=ADA)

    declined = runner.invoke(args=["outreach", "privacy", "erase", ADA], input="n\n")
    assert declined.exit_code == 1
    assert everywhere(ADA)

    result = runner.invoke(args=["outreach", "privacy", "erase", ADA, "--yes"])

    assert result.exit_code == 0, result.output
    assert "registrations anonymised: 1" in result.output
    assert everywhere(ADA) == []


def test_a_wrong_address_is_refused(runner):
    result = runner.invoke(args=["outreach", "privacy", "erase", "not-an-address", "--yes"])

    assert result.exit_code != 0
    assert "email" in result.output

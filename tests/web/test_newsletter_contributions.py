"""Newsletter contributions in the partner workspace: writing, changing, and who sees what."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import AuditEntry, Contribution, ContributionStatus
from outreach.services import contributions, newsletter_issues
from outreach.services.contributions import ContributionInput
from tests.web.html import page

LIST = "/partner/contributions"
NEW = "/partner/contributions/new"


@pytest.fixture(autouse=True)
def pictures_in_tmp(app, tmp_path):
    app.config["CONTRIBUTION_IMAGE_DIR"] = str(tmp_path / "pictures")
    return tmp_path / "pictures"


@pytest.fixture
def org_a(make_org):
    return make_org(name="Sahel Forum")


@pytest.fixture
def partner_a(make_user, org_a):
    return make_user("partner", org=org_a)


def picture(kind: str = "PNG", size: tuple[int, int] = (80, 60)) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, "orange").save(data, kind)
    data.seek(0)
    return data


def form_data(**values) -> dict:
    data = {
        "title_de": "Unser Sommerfest",
        "body_de": "Wir feiern **gemeinsam** im Park.",
        "title_en": "",
        "body_en": "",
    }
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


def stored() -> list[Contribution]:
    db.session.rollback()
    return list(db.session.scalars(select(Contribution).order_by(Contribution.id)))


def submit(user, title: str = "Beitrag") -> Contribution:
    return contributions.submit_contribution(
        ContributionInput(texts={"de": {"title": title, "body": "Text"}}), by=user
    )


def test_the_workspace_menu_leads_to_contributions(client, login, partner_a):
    login(partner_a)
    html = page(client.get("/partner/?lang=en"))
    assert html.one("a", href=LIST).text == "Newsletter contributions"


def test_an_empty_list_explains_what_a_contribution_is(client, login, partner_a):
    login(partner_a)
    response = client.get(f"{LIST}?lang=en")
    assert response.status_code == 200
    html = page(response)
    assert "No contributions yet." in html.one(class_="empty-state").text
    assert html.all("a", href=NEW)
    # The blueprint is not the partner one: it brings the workspace stylesheet itself.
    assert response.get_data(as_text=True).count("css/workspace.css") == 1


def test_a_partner_submits_a_contribution_with_a_picture(
    client, login, partner_a, org_a, pictures_in_tmp
):
    login(partner_a)
    assert client.get(f"{NEW}?lang=en").status_code == 200
    response = client.post(
        f"{NEW}?lang=en",
        data={**form_data(), "image": (picture(), "fest.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    [contribution] = stored()
    assert response.location == f"{LIST}/{contribution.id}"
    assert contribution.organisation_id == org_a.id
    assert contribution.status is ContributionStatus.SUBMITTED
    assert contribution.texts == {
        "de": {"title": "Unser Sommerfest", "body": "Wir feiern **gemeinsam** im Park."}
    }
    assert (pictures_in_tmp / contribution.image_path).exists()

    shown = page(client.get(f"{response.location}?lang=en"))
    assert "Waiting for review" in shown.text
    assert "<strong>gemeinsam</strong>" in shown.html
    image = shown.one("img", class_="ws-logo")
    served = client.get(image.attrs["src"])
    assert served.status_code == 200
    assert served.mimetype == "image/png"
    assert "immutable" in served.headers["Cache-Control"]
    listed = page(client.get(f"{LIST}?lang=en"))
    assert listed.one("a", href=f"{LIST}/{contribution.id}").text == "Unser Sommerfest"


def test_form_errors_name_each_field_and_keep_nothing(client, login, partner_a, counts):
    login(partner_a)
    response = client.post(
        f"{NEW}?lang=en",
        data={
            **form_data(body_de="", title_en="Only a title"),
            "image": (io.BytesIO(b"GIF89a"), "x.gif"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = page(response)
    summary = html.one(class_="error-summary")
    assert {a.attrs["href"] for a in summary.all("a")} == {"#body_de", "#body_en", "#image"}
    assert html.one("input", name="title_de").attrs["value"] == "Unser Sommerfest"
    assert stored() == []


def test_a_picture_over_2_mb_is_refused_with_the_form_again(client, login, partner_a):
    login(partner_a)
    response = client.post(
        f"{NEW}?lang=en",
        data={
            **form_data(),
            "image": (io.BytesIO(b"\x89PNG" + b"0" * (3 * 1024 * 1024)), "big.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    html = page(response)
    assert "a picture may have at most 2 MB" in html.one(class_="error-summary").text
    assert stored() == []


def test_a_contribution_is_changed_until_staff_decide(client, login, partner_a, make_user):
    contribution = submit(partner_a, "Erster Titel")
    login(partner_a)
    edit = f"{LIST}/{contribution.id}/edit"
    assert client.get(f"{edit}?lang=en").status_code == 200
    response = client.post(edit, data=form_data(title_de="Zweiter Titel"))
    assert (response.status_code, response.location) == (303, f"{LIST}/{contribution.id}")
    assert stored()[0].texts["de"]["title"] == "Zweiter Titel"
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "contribution.updated")
        )
        == 1
    )

    newsletter_issues.review_contribution(
        stored()[0], accept=False, note="Bitte fürs nächste Heft kürzen.", by=make_user("staff")
    )
    shown = page(client.get(f"{LIST}/{contribution.id}?lang=en"))
    assert "Declined" in shown.text
    assert "Bitte fürs nächste Heft kürzen." in shown.text
    assert not shown.all("a", href=edit)
    refused = client.post(edit, data=form_data(title_de="Dritter Titel"))
    assert (refused.status_code, refused.location) == (303, f"{LIST}/{contribution.id}")
    assert stored()[0].texts["de"]["title"] == "Zweiter Titel"


def test_partner_b_cannot_see_or_change_partner_a_s_contributions(
    client, login, partner_a, make_user
):
    contribution = submit(partner_a, "Nur für A")
    partner_b = make_user("partner")
    login(partner_b)
    assert "Nur für A" not in client.get(f"{LIST}?lang=en").get_data(as_text=True)
    assert client.get(f"{LIST}/{contribution.id}").status_code == 404
    assert client.get(f"{LIST}/{contribution.id}/edit").status_code == 404
    assert (
        client.post(f"{LIST}/{contribution.id}/edit", data=form_data(title_de="B")).status_code
        == 404
    )
    assert stored()[0].texts["de"]["title"] == "Nur für A"


@pytest.mark.parametrize("who", ["nobody", "staff"])
def test_only_partner_users_reach_the_contributions(client, login, make_user, who):
    if who == "staff":
        login(make_user("staff"))
        assert client.get(LIST).status_code == 403
        assert client.post(NEW, data=form_data()).status_code == 403
    else:
        response = client.get(LIST)
        assert response.status_code in (302, 303)
        assert "/login" in response.location
        assert client.post(NEW, data=form_data()).status_code in (302, 303)
    assert stored() == []

"""The newsletter's services: double opt-in, contributions, issues, and what an issue says."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from itsdangerous import TimestampSigner
from PIL import Image
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.mail.suppression import suppress
from outreach.models import (
    AuditEntry,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Contribution,
    ContributionStatus,
    IssueStatus,
    MessageKind,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
    SuppressionReason,
    SuppressionScope,
    utcnow,
)
from outreach.services import contributions, newsletter, newsletter_issues
from outreach.services.contributions import ContributionInput
from outreach.services.errors import InvalidInput
from outreach.services.newsletter import NEWSLETTER_CONSENT_VERSION, SubscriptionInput
from outreach.services.newsletter_issues import IssueInput


def subscription(**values) -> SubscriptionInput:
    data = {
        "email": "Leyla@Example.org",
        "name": "Leyla Demir",
        "language": "de",
        "consent": True,
        "consent_language": "de",
        "interests": [],
        "ip": "203.0.113.7",
    }
    data.update(values)
    return SubscriptionInput(**data)


def subscriber(email: str = "leyla@example.org") -> Subscriber | None:
    db.session.rollback()
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email))


def token_of(outbox) -> str:
    return outbox(kind=MessageKind.NEWSLETTER_CONFIRMATION)[-1].payload["token"]


def picture(kind: str = "PNG", size: tuple[int, int] = (60, 40)) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, "teal").save(data, kind)
    data.seek(0)
    return data


@pytest.fixture(autouse=True)
def pictures_in_tmp(app, tmp_path):
    app.config["CONTRIBUTION_IMAGE_DIR"] = str(tmp_path / "pictures")
    return tmp_path / "pictures"


# -- subscribing -------------------------------------------------------------------------


def test_subscribing_records_a_pending_subscriber_and_its_consent(app, outbox):
    now = utcnow().replace(microsecond=0)
    newsletter.subscribe(subscription(consent_language="en", interests=[]), now=now)

    person = subscriber()
    assert person.status is SubscriberStatus.PENDING
    assert person.email == "leyla@example.org"
    assert (person.name, person.language) == ("Leyla Demir", "de")
    assert person.consent_version == NEWSLETTER_CONSENT_VERSION
    assert person.consent_language == "en"
    assert person.consented_at == now
    assert person.consent_ip == "203.0.113.7"
    assert person.confirmed_at is None
    [mail] = outbox()
    assert mail.kind is MessageKind.NEWSLETTER_CONFIRMATION
    assert (mail.recipient, mail.language) == ("leyla@example.org", "de")
    assert mail.payload["subscriber"] == person.id
    assert newsletter.subscriber_for_token(mail.payload["token"]).id == person.id


def test_a_pending_subscriber_gets_only_the_confirmation_mail(app, outbox):
    newsletter.subscribe(subscription())
    assert [row.kind for row in outbox()] == [MessageKind.NEWSLETTER_CONFIRMATION]
    assert newsletter_issues.audience_size() == 0


def test_confirming_makes_the_subscription_active(app, outbox):
    newsletter.subscribe(subscription())
    confirmed = newsletter.confirm(token_of(outbox))
    person = subscriber()
    assert confirmed.id == person.id
    assert person.status is SubscriberStatus.ACTIVE
    assert person.confirmed_at is not None
    assert newsletter_issues.audience_size() == 1
    # Twice is harmless: the time of the first confirmation stays.
    first = person.confirmed_at
    newsletter.confirm(token_of(outbox), now=utcnow() + timedelta(hours=1))
    assert subscriber().confirmed_at == first


def test_a_bad_or_expired_token_does_not_confirm(app, outbox, monkeypatch):
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 8 * 86400)
    newsletter.subscribe(subscription())
    monkeypatch.undo()
    expired = token_of(outbox)
    for token in (expired, expired[:-3] + "abc", "", "x" * 5000):
        with pytest.raises(newsletter.LinkInvalid):
            newsletter.confirm(token)
    assert subscriber().status is SubscriberStatus.PENDING


def test_at_most_one_confirmation_mail_per_window(app, outbox):
    window = newsletter.CONFIRMATION_MAIL_WINDOW
    now = datetime.fromtimestamp(int(utcnow().timestamp()) // window * window, UTC)
    for minutes in (0, 1, 2):
        newsletter.subscribe(
            subscription(name=f"Leyla {minutes}"), now=now + timedelta(minutes=minutes)
        )
    assert len(outbox(kind=MessageKind.NEWSLETTER_CONFIRMATION)) == 1
    # The details are the latest ones: the first mail's link confirms them.
    assert subscriber().name == "Leyla 2"
    newsletter.subscribe(subscription(), now=now + timedelta(minutes=11))
    assert len(outbox(kind=MessageKind.NEWSLETTER_CONFIRMATION)) == 2


def test_an_active_subscriber_is_neither_downgraded_nor_changed_nor_mailed(app, outbox):
    newsletter.subscribe(subscription())
    newsletter.confirm(token_of(outbox))
    before = subscriber()
    consented_at = before.consented_at

    newsletter.subscribe(
        subscription(name="Someone else", language="en", ip="198.51.100.1"),
        now=utcnow() + timedelta(hours=1),
    )
    after = subscriber()
    assert after.status is SubscriberStatus.ACTIVE
    assert (after.name, after.language, after.consented_at) == ("Leyla Demir", "de", consented_at)
    assert len(outbox()) == 1


def test_an_old_link_does_not_bring_back_someone_who_unsubscribed(app, outbox):
    newsletter.subscribe(subscription())
    token = token_of(outbox)
    newsletter.confirm(token)
    person = subscriber()
    person.status = SubscriberStatus.UNSUBSCRIBED
    suppress(person.email, SuppressionReason.UNSUBSCRIBED, scope=SuppressionScope.NEWSLETTER)
    db.session.commit()

    with pytest.raises(newsletter.LinkInvalid):
        newsletter.confirm(token)
    assert subscriber().status is SubscriberStatus.UNSUBSCRIBED


def test_subscribing_again_after_leaving_needs_a_new_confirmation(app, outbox):
    newsletter.subscribe(subscription())
    newsletter.confirm(token_of(outbox))
    person = subscriber()
    person.status = SubscriberStatus.UNSUBSCRIBED
    suppress(person.email, SuppressionReason.UNSUBSCRIBED, scope=SuppressionScope.NEWSLETTER)
    db.session.commit()

    newsletter.subscribe(subscription(), now=utcnow() + timedelta(hours=1))
    assert subscriber().status is SubscriberStatus.PENDING
    assert newsletter_issues.audience_size() == 0
    newsletter.confirm(token_of(outbox))
    # The unsubscription is lifted: the person asked for the newsletter again.
    assert subscriber().status is SubscriberStatus.ACTIVE
    assert newsletter_issues.audience_size() == 1


def test_bad_subscriptions_name_every_problem_and_store_nothing(app, outbox, counts):
    with pytest.raises(InvalidInput) as refused:
        newsletter.subscribe(
            subscription(
                email="not an address",
                name="Bad\x00name",
                language="xx",
                interests=["no-such-topic"],
                consent=False,
            )
        )
    assert set(refused.value.errors) == {"email", "name", "language", "interests", "consent"}
    assert subscriber("not an address") is None
    assert counts() == (0, 0)


def test_interests_are_topics_that_exist(app, make_event):
    make_event(topics=["culture", "education"])
    newsletter.subscribe(subscription(interests=["education", "culture", "education"]))
    assert subscriber().interests == ["culture", "education"]


# -- contributions -----------------------------------------------------------------------


def texts(title: str = "Unser Sommerfest", body: str = "Wir feiern **gemeinsam**.") -> dict:
    return {"de": {"title": title, "body": body}, "en": {"title": "", "body": ""}}


def test_a_partner_submits_a_contribution_with_a_picture(app, make_user, pictures_in_tmp):
    partner = make_user("partner")
    contribution = contributions.submit_contribution(
        ContributionInput(texts=texts()), by=partner, image=picture("JPEG", (3000, 1500))
    )
    assert contribution.organisation_id == partner.organisation_id
    assert contribution.status is ContributionStatus.SUBMITTED
    assert contribution.texts == {
        "de": {"title": "Unser Sommerfest", "body": "Wir feiern **gemeinsam**."}
    }
    assert contribution.submitted_by_id == partner.id
    # Re-encoded: a photo becomes WebP, at most 1200 pixels wide, without metadata.
    stored = pictures_in_tmp / contribution.image_path
    with Image.open(stored) as image:
        assert image.format == "WEBP"
        assert image.size == (1200, 600)
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions == ["contribution.submitted"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", None),
        (b"GIF89a" + b"\x00" * 100, "This file is not an image we can read."),
        (b"x" * (2 * 1024 * 1024 + 1), "The file is too large: a picture may have at most 2 MB."),
    ],
)
def test_a_file_that_is_not_a_picture_is_refused(app, make_user, pictures_in_tmp, data, message):
    partner = make_user("partner")
    if message is None:  # no file chosen: no picture, no problem
        contribution = contributions.submit_contribution(
            ContributionInput(texts=texts()), by=partner, image=io.BytesIO(data)
        )
        assert contribution.image_path is None
        return
    with pytest.raises(InvalidInput) as refused, force_locale("en"):
        contributions.submit_contribution(
            ContributionInput(texts=texts()), by=partner, image=io.BytesIO(data)
        )
    assert refused.value.errors == {"image": message}
    assert db.session.scalar(select(func.count(Contribution.id))) == 0
    assert not pictures_in_tmp.exists() or not any(pictures_in_tmp.iterdir())


def test_half_written_language_versions_are_refused(app, make_user):
    partner = make_user("partner")
    with pytest.raises(InvalidInput) as refused:
        contributions.submit_contribution(
            ContributionInput(
                texts={
                    "de": {"title": "Nur ein Titel", "body": ""},
                    "en": {"title": "", "body": "Text"},
                }
            ),
            by=partner,
            image=picture("GIF"),
        )
    assert set(refused.value.errors) == {"de.body", "en.title", "image"}
    with pytest.raises(InvalidInput) as refused:
        contributions.submit_contribution(ContributionInput(texts={}), by=partner)
    assert set(refused.value.errors) == {"texts"}


def test_only_partner_users_submit_contributions(app, make_user):
    with pytest.raises(contributions.NotAllowed):
        contributions.submit_contribution(ContributionInput(texts=texts()), by=make_user("staff"))


def test_a_contribution_changes_until_it_is_reviewed(app, make_user, make_org, pictures_in_tmp):
    org = make_org()
    partner, colleague = make_user("partner", org=org), make_user("partner", org=org)
    contribution = contributions.submit_contribution(
        ContributionInput(texts=texts()), by=partner, image=picture()
    )
    old_picture = contribution.image_path

    contributions.update_contribution(
        contribution, ContributionInput(texts=texts(title="Neu")), by=colleague, image=picture()
    )
    assert contribution.texts["de"]["title"] == "Neu"
    assert contribution.image_path != old_picture
    assert not (pictures_in_tmp / old_picture).exists()
    contributions.update_contribution(
        contribution, ContributionInput(texts=texts(title="Neu")), by=partner, remove_image=True
    )
    assert contribution.image_path is None

    with pytest.raises(contributions.NotAllowed):
        contributions.update_contribution(
            contribution, ContributionInput(texts=texts()), by=make_user("partner")
        )
    newsletter_issues.review_contribution(contribution, accept=True, by=make_user("staff"))
    with pytest.raises(contributions.ContributionLocked):
        contributions.update_contribution(
            contribution, ContributionInput(texts=texts(title="Später")), by=partner
        )
    assert contribution.texts["de"]["title"] == "Neu"


# -- issues --------------------------------------------------------------------------------


@pytest.fixture
def staff(make_user):
    return make_user("staff")


@pytest.fixture
def submitted(make_user, make_org):
    """Submit a contribution from a new organisation; keywords: title, body, texts."""

    def submit(title: str = "Beitrag", body: str = "Text", **values):
        org_name = values.pop("org_name", None)
        partner = make_user("partner", org=make_org(name=org_name) if org_name else make_org())
        return contributions.submit_contribution(
            ContributionInput(texts=values.pop("texts", None) or texts(title, body)), by=partner
        )

    return submit


def an_issue(staff, slug: str = "2026-herbst", **values) -> NewsletterIssue:
    return newsletter_issues.create_issue(
        IssueInput(
            slug=slug,
            title=values.pop("title", {"de": "Herbst 2026", "en": "Autumn 2026"}),
            intro=values.pop("intro", {"de": "Liebe Leserinnen und Leser,"}),
        ),
        by=staff,
    )


def test_issue_input_is_checked(app, staff):
    an_issue(staff, slug="taken")
    with pytest.raises(InvalidInput) as refused:
        newsletter_issues.create_issue(
            IssueInput(slug="taken", title={"de": "{{ first_name }}"}, intro={"en": "Intro"}),
            by=staff,
        )
    assert set(refused.value.errors) == {"slug", "title.de", "title.en"}
    for slug in ("Großes Heft", "subscribe", ""):
        with pytest.raises(InvalidInput) as refused:
            newsletter_issues.create_issue(IssueInput(slug=slug, title={"de": "T"}), by=staff)
        assert set(refused.value.errors) == {"slug"}


def test_only_staff_compose_issues(app, make_user):
    with pytest.raises(newsletter_issues.NotAllowed):
        an_issue(make_user("partner"))


def test_contributions_are_added_ordered_and_removed(app, staff, submitted):
    issue = an_issue(staff)
    first, second, third = submitted("Eins"), submitted("Zwei"), submitted("Drei")
    for contribution in (first, second, third):
        newsletter_issues.add_to_issue(issue, contribution, by=staff)

    def order() -> list[int]:
        db.session.expire_all()
        return [item.id for item in newsletter_issues.issue_by_id(issue.id).contributions]

    assert order() == [first.id, second.id, third.id]
    newsletter_issues.move_in_issue(issue, third, -1, by=staff)
    assert order() == [first.id, third.id, second.id]
    newsletter_issues.move_in_issue(issue, first, -1, by=staff)  # already first: stays
    newsletter_issues.move_in_issue(issue, first, 1, by=staff)
    assert order() == [third.id, first.id, second.id]
    newsletter_issues.remove_from_issue(issue, first, by=staff)
    assert order() == [third.id, second.id]
    assert [item.id for item in newsletter_issues.contribution_pool()] == [first.id]

    other = an_issue(staff, slug="anderes-heft")
    with pytest.raises(newsletter_issues.ContributionTaken):
        newsletter_issues.add_to_issue(other, second, by=staff)
    with pytest.raises(newsletter_issues.NotInIssue):
        newsletter_issues.move_in_issue(other, second, 1, by=staff)


def test_declining_takes_a_contribution_out_of_its_issue(app, staff, submitted):
    issue = an_issue(staff)
    contribution = submitted()
    newsletter_issues.add_to_issue(issue, contribution, by=staff)
    newsletter_issues.review_contribution(
        contribution, accept=False, note="Passt leider nicht.", by=staff
    )
    db.session.expire_all()
    assert contribution.status is ContributionStatus.DECLINED
    assert contribution.review_note == "Passt leider nicht."
    assert contribution.issue_id is None
    assert newsletter_issues.contribution_pool() == []
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "contribution.declined")
    ).one()
    assert entry.comment == "Passt leider nicht."


def test_sending_an_issue_creates_a_newsletter_campaign_for_all_subscribers(app, staff, submitted):
    issue = an_issue(staff)
    contribution = submitted()
    newsletter_issues.add_to_issue(issue, contribution, by=staff)
    with pytest.raises(newsletter_issues.NothingToSend):
        newsletter_issues.send_issue(issue, by=staff)
    newsletter_issues.review_contribution(contribution, accept=True, by=staff)

    campaign = newsletter_issues.send_issue(issue, by=staff)
    db.session.expire_all()
    assert campaign.kind is CampaignKind.NEWSLETTER
    assert campaign.segment == {"type": "subscribers", "languages": [], "interests": []}
    assert {locale: text["subject"] for locale, text in campaign.texts.items()} == {
        "de": "Herbst 2026",
        "en": "Autumn 2026",
    }
    assert campaign.fallback_language == "de"
    # Due now: the worker's scheduler enqueues it.
    assert campaign.status is CampaignStatus.SCHEDULED
    assert campaign.scheduled_at <= utcnow()
    assert issue.status is IssueStatus.PUBLISHED
    assert issue.published_at is not None
    assert issue.campaign_id == campaign.id

    with pytest.raises(newsletter_issues.IssuePublished):
        newsletter_issues.send_issue(issue, by=staff)
    with pytest.raises(newsletter_issues.IssuePublished):
        newsletter_issues.update_issue(issue, IssueInput(slug="neu", title={"de": "X"}), by=staff)
    with pytest.raises(newsletter_issues.IssuePublished):
        newsletter_issues.review_contribution(contribution, accept=False, by=staff)
    assert db.session.scalar(select(func.count(Campaign.id))) == 1


def test_an_issue_whose_sending_stopped_half_way_is_sent_by_trying_again(
    app, staff, submitted, monkeypatch
):
    issue = an_issue(staff)
    contribution = submitted()
    newsletter_issues.add_to_issue(issue, contribution, by=staff)
    newsletter_issues.review_contribution(contribution, accept=True, by=staff)

    def dies(campaign, *, by):
        raise RuntimeError("the process died")

    monkeypatch.setattr(newsletter_issues.campaign_service, "send_now", dies)
    with pytest.raises(RuntimeError):
        newsletter_issues.send_issue(issue, by=staff)
    monkeypatch.undo()
    db.session.expire_all()
    assert issue.status is IssueStatus.PUBLISHED
    assert issue.campaign.status is CampaignStatus.DRAFT
    assert newsletter_issues.waits_for_sending(issue)

    campaign = newsletter_issues.send_issue(issue, by=staff)
    assert campaign.id == issue.campaign_id
    assert campaign.status is CampaignStatus.SCHEDULED
    assert not newsletter_issues.waits_for_sending(issue)
    assert db.session.scalar(select(func.count(Campaign.id))) == 1


# -- what an issue says --------------------------------------------------------------------


def test_issue_content_has_the_accepted_contributions_in_order_and_language(
    app, staff, submitted, make_user
):
    issue = an_issue(staff, intro={"de": "Hallo *alle*", "en": "Hello *everyone*"})
    german_only = submitted("Nur Deutsch", org_name="Verein Eins")
    both = submitted(
        texts={"de": {"title": "Titel", "body": "Text"}, "en": {"title": "Title", "body": "Body"}},
        org_name="Verein Zwei",
    )
    waiting = submitted("Noch offen")
    for contribution in (german_only, both, waiting):
        newsletter_issues.add_to_issue(issue, contribution, by=staff)
    for contribution in (german_only, both):
        newsletter_issues.review_contribution(contribution, accept=True, by=staff)
    newsletter_issues.move_in_issue(issue, both, -1, by=staff)
    db.session.expire_all()

    content = newsletter.issue_content(newsletter_issues.issue_by_id(issue.id), "en")
    assert content.subject == "Autumn 2026"
    assert content.intro_html == "<p>Hello <em>everyone</em></p>\n"
    assert [(item.organisation, item.title, item.language) for item in content.items] == [
        ("Verein Zwei", "Title", "en"),
        ("Verein Eins", "Nur Deutsch", "de"),
    ]
    assert content.items[0].image_url is None


def test_markup_in_a_contribution_renders_inert(app, staff, submitted):
    issue = an_issue(staff)
    contribution = submitted(
        "<script>alert(1)</script>",
        '<script>alert("x")</script><img src=x onerror=alert(1)>\n\n'
        "[klick](javascript:alert(1)) {{ 7 * 7 }} "
        '<a href="https://ok.example" onclick="x()">ok</a>',
    )
    newsletter_issues.add_to_issue(issue, contribution, by=staff)
    newsletter_issues.review_contribution(contribution, accept=True, by=staff)

    [item] = newsletter.issue_content(issue, "de").items
    html = str(item.body_html)
    # Raw HTML is shown as the text it is, never as markup (outreach.rich_text).
    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert '&lt;script&gt;alert("x")&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;' in html
    assert "[klick](javascript:alert(1))" in html  # no link: the scheme is refused
    assert "{{ 7 * 7 }}" in html  # a contribution is no template
    assert 'onclick="x()"&gt;ok&lt;/a&gt;' in html
    # The title is plain text: the page and the mail escape it.
    assert item.title == "<script>alert(1)</script>"

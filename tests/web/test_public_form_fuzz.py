"""Every public form, fuzzed: never a 5xx, always a page, never anything half-written.

A public form is one that anybody may send without logging in. They are
found in the URL map (every POST route outside the workspaces, the JSON API
and the development tools), so a new one fails ``test_every_public_form_is_fuzzed``
until it is added to ``FORMS`` below.

Each form gets bodies built from its real field names: valid values, some of
them replaced by odd ones (control characters, lone surrogates, huge strings,
wrong choices), repeated where one value is expected, left out, or joined by
fields the form does not have (the robot trap's ``homepage`` among them). The
bodies are URL-encoded by hand, so text that is not valid UTF-8 reaches the
server too.

Whatever arrives: the answer is below 500 and is an HTML page or a redirect.
A refusal (4xx) changes none of the counted tables (registrations,
subscribers, applications, outbox, users, privacy requests); a success
changes them only as that form may, and consistently (a new registration
comes with its confirmation in the outbox, and so on); a form whose trap
field was filled in changes nothing at all.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.mail.unsubscribe import preferences_token, unsubscribe_token
from outreach.models import (
    MessageKind,
    OutboxMessage,
    PartnerApplication,
    PrivacyRequest,
    Registration,
    Subscriber,
    SuppressionScope,
    User,
)
from outreach.services import newsletter, privacy_requests
from outreach.services.account_links import (
    INVITATION,
    RESET,
    invite_partner_user,
    issue_link_token,
)
from tests.conftest import PASSWORD

FUZZ_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# Routes under these prefixes need a login (tests/web/test_permission_matrix.py checks
# that anonymous visitors are refused there); /api is JSON (tests/api, Schemathesis).
NOT_PUBLIC = re.compile(r"^/(partner|staff|desk|check-in|account|api|dev)(/|$)")
# Public POST routes that take no form, each with the reason and where it is tested.
NOT_FORMS = {
    "hooks.delivery": "a JSON webhook signed with a shared secret: test_delivery_webhook.py",
}

COUNTED = {
    "registrations": Registration,
    "subscribers": Subscriber,
    "applications": PartnerApplication,
    "outbox": OutboxMessage,
    "users": User,
    "privacy_requests": PrivacyRequest,
}

QUESTIONS = [
    {"kind": "short_text", "required": True, "label": {"de": "Rolle", "en": "Role"}},
    {"kind": "long_text", "label": {"de": "Bedarf", "en": "Needs"}},
    {
        "kind": "single_choice",
        "label": {"de": "Dolmetschen", "en": "Interpreting"},
        "options": [{"value": "none", "label": {}}, {"value": "ar", "label": {}}],
    },
    {
        "kind": "multiple_choice",
        "label": {"de": "Essen", "en": "Food"},
        "options": [{"value": "vegan", "label": {}}, {"value": "halal", "label": {}}],
    },
    {"kind": "checkbox", "required": True, "label": {"de": "Fotos", "en": "Photos"}},
]

# -- odd values ------------------------------------------------------------------------------

# Any code point, lone surrogates and control characters included.
any_char = st.characters(codec=None, exclude_categories=())
odd_text = st.one_of(
    st.text(any_char, max_size=40),
    st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=10),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\r\n",
            "\u202e",
            "\ufeff",
            "\ud800",
            "\udfff",
            "y",
            "on",
            "-1",
            "99999999999999999999999",
            "١٢",
            "NaN",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "{{ 7*7 }}",
            "de\n",
            "https://",
        ]
    ),
)
# Huge strings cost little to generate this way: a short piece, repeated (past 1 MiB too).
huge_text = st.builds(
    lambda piece, times: piece * times,
    st.text(any_char, min_size=1, max_size=3),
    st.integers(min_value=300, max_value=150_000),
)
junk = st.one_of(odd_text, odd_text, odd_text, huge_text)
_numbers = itertools.count(1)
fresh_emails = st.uuids().map(lambda uuid: f"f{uuid.hex[:12]}@example.org")
emails = st.one_of(fresh_emails, st.emails(), odd_text)
field_names = st.one_of(
    st.sampled_from(["homepage", "rendered_at", "csrf_token", "submit", "id", "status", "role"]),
    st.text(any_char, min_size=1, max_size=20),
)

Pairs = list[tuple[str, str]]


@st.composite
def form_bodies(draw, fields: dict[str, st.SearchStrategy]) -> Pairs:
    """A body of ``fields`` (each a strategy for a valid value), spoiled now and then."""
    values: dict[str, Any] = {name: draw(strategy) for name, strategy in fields.items()}
    if fields and draw(st.booleans()):
        for name in draw(st.sets(st.sampled_from(sorted(fields)), min_size=1)):
            change = draw(st.sampled_from(["odd", "missing", "repeated", "odd list"]))
            if change == "missing":
                del values[name]
            elif change == "odd":
                values[name] = draw(emails if "email" in name else junk)
            elif change == "repeated":
                values[name] = [*_as_list(values[name]), draw(odd_text)]
            else:
                values[name] = draw(st.lists(odd_text, min_size=2, max_size=4))
    for name, value in draw(st.dictionaries(field_names, junk, max_size=2)).items():
        values.setdefault(name, value)
    return [(name, item) for name, value in values.items() for item in _as_list(value)]


def _as_list(value: Any) -> list[str]:
    return list(value) if isinstance(value, list) else [value]


def _encoded(pairs: Pairs) -> bytes:
    """URL-encode by hand: lone surrogates become bytes that are not UTF-8, as a robot sends."""
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode("ascii")


def _first(pairs: Pairs, name: str) -> str | None:
    return next((value for key, value in pairs if key == name), None)


# -- the forms -----------------------------------------------------------------------------


@dataclass
class World:
    """What the forms need to exist: an event with questions, people, links."""

    event: Any
    question_ids: list[int]
    user: Any
    manage_token: str
    subscriber_email: str
    make_registration: Callable[..., Any]

    def register(self, email: str):
        """Register ``email`` for the event through the service, answering what is required."""
        role, _needs, _interpreting, _food, photos = (str(id_) for id_ in self.question_ids)
        answers = {role: "Lehrerin", photos: True}
        return self.make_registration(self.event, email=email, answers=answers)


Check = Callable[[dict[str, int], Pairs, Any], None]


@dataclass
class Form:
    """A public form: its address (fresh per example when a success uses the link up),
    its fields with valid values, and what a success may change."""

    url: Callable[[World], str]
    fields: Callable[[World], dict[str, st.SearchStrategy]] = lambda world: {}
    may_change: dict[str, set[int]] = field(default_factory=dict)
    consistent: Check | None = None
    has_trap: bool = False
    plain_text_ok: bool = False


def _question_fields(world: World) -> dict[str, st.SearchStrategy]:
    role, needs, interpreting, food, photos = (f"q_{id_}" for id_ in world.question_ids)
    return {
        role: st.sampled_from(["Lehrerin", " Teacher ", "Ärztin"]),
        needs: st.sampled_from(["", "Rollstuhl", "Zeile 1\r\nZeile 2"]),
        interpreting: st.sampled_from(["", "none", "ar"]),
        food: st.lists(st.sampled_from(["vegan", "halal"]), max_size=2, unique=True),
        photos: st.just("y"),
    }


def _registration_fields(world: World) -> dict[str, st.SearchStrategy]:
    return {
        "name": st.sampled_from(["Amina Yusuf", "Олена Коваль", "  Kemal  Öztürk "]),
        "email": st.one_of(fresh_emails, fresh_emails, st.just("kept@example.org")),
        "language": st.sampled_from(["de", "en"]),
        "guests": st.sampled_from(["0", "1", "2", ""]),
        **_question_fields(world),
        "consent": st.just("y"),
    }


def _change_fields(world: World) -> dict[str, st.SearchStrategy]:
    return {
        "language": st.sampled_from(["de", "en"]),
        "guests": st.sampled_from(["0", "1", "2", ""]),
        **_question_fields(world),
    }


def _with_its_mail(table: str) -> Check:
    """A new row in ``table`` comes with exactly one new mail; no new row, at most one."""

    def check(delta: dict[str, int], pairs: Pairs, response) -> None:
        if delta[table]:
            assert delta["outbox"] == 1, delta

    return check


def _registration_with_its_confirmation(delta: dict[str, int], pairs: Pairs, response) -> None:
    if not delta["registrations"]:
        return
    assert delta["outbox"] == 1, delta
    newest = db.session.scalar(select(func.max(Registration.id)))
    mail = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1))
    assert mail.registration_id == newest
    assert mail.kind in {MessageKind.REGISTRATION_CONFIRMED, MessageKind.REGISTRATION_WAITLISTED}


def _fresh_registration(world: World) -> str:
    email = f"cancel{next(_numbers)}@example.org"
    return world.register(email).token


def _pending_subscription(world: World) -> str:
    email = f"pending{next(_numbers)}@example.org"
    newsletter.subscribe(
        newsletter.SubscriptionInput(
            email=email, language="de", consent=True, consent_language="de", name="Ada"
        )
    )
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == email))
    return newsletter.confirmation_token(subscriber)


def _invitation(world: World) -> str:
    user = invite_partner_user(
        f"invited{next(_numbers)}@example.org", world.user.organisation.slug, "Neu"
    )
    return issue_link_token(user, INVITATION)


def _privacy_token(email: str, kind: str) -> str:
    assert privacy_requests.ask(email, kind, language="de")
    mail = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1))
    return mail.payload["token"]


def _privacy_link(world: World) -> str:
    kind = ("export", "erasure")[next(_numbers) % 2]
    return f"/privacy/request/{_privacy_token(f'ask{next(_numbers)}@example.org', kind)}"


def _confirmed_erasure(world: World) -> str:
    email = f"erase{next(_numbers)}@example.org"
    world.register(email)
    token = _privacy_token(email, "erasure")
    privacy_requests.confirm(token)
    return f"/privacy/request/{token}/erase"


# Mostly the same good password twice, so that both outcomes are common.
passwords = st.one_of(
    st.just("a new password for me"),
    st.just("a new password for me"),
    st.sampled_from(["another long password", "short"]),
)

FORMS: dict[str, Form] = {
    "public.event": Form(
        url=lambda world: f"/events/{world.event.slug}",
        fields=_registration_fields,
        may_change={"registrations": {0, 1}, "outbox": {0, 1}},
        consistent=_registration_with_its_confirmation,
        has_trap=True,
    ),
    "manage.update": Form(
        url=lambda world: f"/r/{world.manage_token}",
        fields=_change_fields,
    ),
    "manage.cancel": Form(
        url=lambda world: f"/r/{_fresh_registration(world)}/cancel",
        fields=lambda world: {"submit": st.just("Ja")},
        # The person is told; nobody waits for the seat (the event has no limit).
        may_change={"outbox": {0, 1}},
    ),
    "newsletter.subscribe": Form(
        url=lambda world: "/newsletter/subscribe",
        fields=lambda world: {
            "email": st.one_of(fresh_emails, fresh_emails, st.just(world.subscriber_email)),
            "name": st.sampled_from(["", "Ada", "Ngozi Okafor"]),
            "language": st.sampled_from(["de", "en"]),
            "interests": st.lists(st.just("culture"), max_size=1),
            "consent": st.just("y"),
        },
        may_change={"subscribers": {0, 1}, "outbox": {0, 1}},
        consistent=_with_its_mail("subscribers"),
        has_trap=True,
    ),
    "newsletter.confirm_post": Form(
        url=lambda world: f"/newsletter/confirm/{_pending_subscription(world)}",
    ),
    "applications.apply": Form(
        url=lambda world: "/become-a-partner",
        fields=lambda world: {
            "organisation_name": st.sampled_from(["Neue Brücke e.V.", "Kulturhaus Kalk"]),
            "website": st.sampled_from(["", "https://example.org"]),
            "city": st.sampled_from(["Köln", "Halle (Saale)"]),
            "languages": st.lists(st.sampled_from(["de", "ar", "tr"]), min_size=1, unique=True),
            "description": st.sampled_from(["Wir machen Nachbarschaftsarbeit.", "Sprachcafé"]),
            "contact_name": st.sampled_from(["Lina", "Mehmet Yılmaz"]),
            "contact_email": fresh_emails,
            "consent": st.just("y"),
        },
        may_change={"applications": {0, 1}, "outbox": {0, 1}},
        consistent=_with_its_mail("applications"),
        has_trap=True,
    ),
    "accounts.login": Form(
        url=lambda world: "/login",
        fields=lambda world: {
            "email": st.sampled_from([world.user.email, world.user.email.upper(), "x@y.org"]),
            "password": st.sampled_from([PASSWORD, "wrong password"]),
            "remember": st.sampled_from(["", "y"]),
        },
    ),
    "accounts.logout": Form(url=lambda world: "/logout"),
    "accounts.forgot_password": Form(
        url=lambda world: "/password/forgot",
        fields=lambda world: {"email": st.sampled_from([world.user.email, "nobody@example.org"])},
        may_change={"outbox": {0, 1}},
        has_trap=True,
    ),
    "accounts.reset_password": Form(
        url=lambda world: f"/password/reset/{issue_link_token(world.user, RESET)}",
        fields=lambda world: {"password": passwords, "confirm": passwords},
    ),
    "accounts.accept_invitation": Form(
        url=lambda world: f"/invitation/{_invitation(world)}",
        fields=lambda world: {"password": passwords, "confirm": passwords},
    ),
    "unsubscribe.unsubscribe": Form(
        url=lambda world: (
            "/unsubscribe/" + unsubscribe_token(world.subscriber_email, SuppressionScope.NEWSLETTER)
        ),
        fields=lambda world: {"List-Unsubscribe": st.sampled_from(["One-Click", "x"])},
        # RFC 8058: a mail client's one-click request gets a short text, not a page.
        plain_text_ok=True,
    ),
    "unsubscribe.save_preferences": Form(
        url=lambda world: f"/preferences/{preferences_token(world.subscriber_email)}",
        fields=lambda world: {
            "outreach": st.sampled_from(["", "y"]),
            "newsletter": st.sampled_from(["", "y"]),
            "language": st.sampled_from(["de", "en"]),
            "interests": st.lists(st.just("culture"), max_size=1),
        },
    ),
    "unsubscribe.leave": Form(
        url=lambda world: f"/preferences/{preferences_token(world.subscriber_email)}/leave",
    ),
    "privacy.ask": Form(
        url=lambda world: "/privacy/request",
        fields=lambda world: {
            "email": st.one_of(fresh_emails, fresh_emails, st.just(world.user.email)),
            "kind": st.sampled_from(["export", "erasure"]),
        },
        may_change={"privacy_requests": {0, 1}, "outbox": {0, 1}},
        consistent=_with_its_mail("privacy_requests"),
        has_trap=True,
    ),
    "privacy.confirm": Form(url=_privacy_link),
    "privacy.erase": Form(url=_confirmed_erasure),
}


def _public_post_endpoints(app: Flask) -> set[str]:
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not NOT_PUBLIC.match(rule.rule)
    }


def test_every_public_form_is_fuzzed(app):
    found = _public_post_endpoints(app) - set(NOT_FORMS)
    new = found - set(FORMS)
    assert not new, (
        f"New public POST routes {sorted(new)}: add each to FORMS in this file "
        "(its URL, its fields with valid values, and what a success may change), "
        "or to NOT_FORMS with the reason."
    )
    assert set(FORMS) <= found, f"FORMS names routes that are gone: {set(FORMS) - found}"


# -- the fuzz ------------------------------------------------------------------------------


@pytest.fixture
def world(app, make_event, make_user, make_registration) -> World:
    fuzz_event = make_event(
        slug="fuzz", capacity=None, max_guests=2, questions=QUESTIONS, topics=["culture"]
    )
    subscriber_email = "reader@example.org"
    newsletter.subscribe(
        newsletter.SubscriptionInput(
            email=subscriber_email,
            language="de",
            consent=True,
            consent_language="de",
            interests=["culture"],
        )
    )
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == subscriber_email))
    newsletter.confirm(newsletter.confirmation_token(subscriber))
    world = World(
        event=fuzz_event,
        question_ids=[question.id for question in fuzz_event.questions],
        user=make_user("partner"),
        manage_token="",
        subscriber_email=subscriber_email,
        make_registration=make_registration,
    )
    world.manage_token = world.register("kept@example.org").token
    return world


def _counts() -> dict[str, int]:
    db.session.rollback()  # end any open read so the counts are fresh
    return {
        name: db.session.scalar(select(func.count()).select_from(model))
        for name, model in COUNTED.items()
    }


def _assert_is_a_page_or_a_redirect(response, *, plain_text_ok: bool) -> None:
    if 300 <= response.status_code < 400:
        assert response.location, "a redirect without a Location"
        return
    allowed = {"text/html", "text/plain"} if plain_text_ok else {"text/html"}
    assert response.mimetype in allowed, (response.status_code, response.mimetype)


@pytest.mark.parametrize("endpoint", sorted(FORMS))
def test_public_form_survives_any_body_and_never_half_writes(client, world, endpoint):
    form = FORMS[endpoint]
    fields = form.fields(world)

    @FUZZ_SETTINGS
    @given(pairs=form_bodies(fields))
    def check(pairs: Pairs):
        url = form.url(world)
        before = _counts()

        response = client.post(
            url, data=_encoded(pairs), content_type="application/x-www-form-urlencoded"
        )

        after = _counts()
        delta = {name: after[name] - before[name] for name in COUNTED}
        event(f"status {response.status_code}")  # see --hypothesis-show-statistics
        assert response.status_code < 500, response.get_data(as_text=True)[:500]
        _assert_is_a_page_or_a_redirect(response, plain_text_ok=form.plain_text_ok)
        trapped = form.has_trap and bool((_first(pairs, "homepage") or "").strip())
        if response.status_code >= 400 or trapped:
            assert delta == dict.fromkeys(COUNTED, 0), (response.status_code, delta)
            return
        for name, change in delta.items():
            assert change in form.may_change.get(name, {0}), (name, delta)
        if form.consistent is not None:
            form.consistent(delta, pairs, response)

    check()


@pytest.fixture
def csrf_on(app):
    """Check CSRF tokens as production does (TestingConfig switches it off)."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_a_public_form_without_its_csrf_token_is_a_400_page(client, world, csrf_on):
    exempt = {"unsubscribe.unsubscribe"}  # RFC 8058 one-click: the signed link is the proof
    for endpoint, form in sorted(FORMS.items()):
        url = form.url(world)
        before = _counts()

        response = client.post(url, data={"homepage": "", "submit": "x"})

        assert response.status_code < 500, endpoint
        if endpoint in exempt:
            continue
        assert response.status_code == 400, (endpoint, response.status_code)
        assert response.mimetype == "text/html", endpoint
        assert _counts() == before, endpoint

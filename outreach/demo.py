"""Demo data for trying Outreach on a laptop: ``flask outreach seed-demo``.

Seeding is idempotent: organisations, topics and events are keyed by slug,
and anything that exists already is left as it is.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from outreach.extensions import db
from outreach.models import (
    Event,
    EventStatus,
    EventTranslation,
    Organisation,
    QuestionKind,
    Registration,
    RegistrationQuestion,
    RegistrationStatus,
    Role,
    Topic,
    User,
    event_hosts,
    utcnow,
)

BERLIN = ZoneInfo("Europe/Berlin")

# Accounts for trying the workspaces on a laptop; never seed demo data in production.
DEMO_PASSWORD = "outreach-demo"  # noqa: S105  (documented; seed-demo only)
DEMO_USERS = [
    ("team@brueckenwerk.example.org", Role.STAFF, None, "Alex Team"),
    ("partner@sahel-forum.example.org", Role.PARTNER, "sahel-forum", "Mariam Sahel"),
]

ORGANISATIONS = [
    (
        "brueckenwerk",
        "Brückenwerk e.V.",
        True,
        "Wir verbinden Diaspora-Gemeinschaften in ganz Deutschland.",
        "We connect diaspora communities across Germany.",
    ),
    (
        "sahel-forum",
        "Sahel Forum Köln",
        False,
        "Westafrikanische Diaspora im Rheinland: Bildung, Kultur, Entwicklung.",
        "West African diaspora in the Rhineland: education, culture, development.",
    ),
    (
        "anatolia-bridge",
        "Anatolia Bridge Hamburg",
        False,
        "Türkeistämmige Engagierte für Teilhabe und Nachbarschaft.",
        "People of Turkish heritage working for participation and neighbourhood.",
    ),
    (
        "vietnam-haus",
        "Vietnam-Haus Leipzig",
        False,
        "Vietnamesische Community in Sachsen – Beratung, Sprache, Feste.",
        "The Vietnamese community in Saxony – advice, language, festivals.",
    ),
    (
        "andes-netz",
        "Red Andina Berlin",
        False,
        "Lateinamerikanische Initiativen aus den Anden in Berlin.",
        "Latin American initiatives from the Andes in Berlin.",
    ),
]

TOPICS = [
    ("education", "Bildung", "Education"),
    ("culture", "Kultur", "Culture"),
    ("work", "Arbeit & Beruf", "Work & careers"),
    ("health", "Gesundheit", "Health"),
    ("civic", "Teilhabe", "Civic participation"),
]

ACCESSIBILITY_QUESTIONS = [
    (
        QuestionKind.SINGLE_CHOICE,
        True,
        {"de": "Brauchen Sie eine Verdolmetschung?", "en": "Do you need interpretation?"},
        [
            ("none", "Nein", "No"),
            ("ar", "Arabisch", "Arabic"),
            ("tr", "Türkisch", "Turkish"),
            ("vi", "Vietnamesisch", "Vietnamese"),
        ],
    ),
    (
        QuestionKind.MULTIPLE_CHOICE,
        False,
        {"de": "Ernährung", "en": "Dietary needs"},
        [
            ("vegetarian", "vegetarisch", "vegetarian"),
            ("vegan", "vegan", "vegan"),
            ("halal", "halal", "halal"),
        ],
    ),
    (
        QuestionKind.LONG_TEXT,
        False,
        {
            "de": "Barrierefreiheit: Was sollen wir wissen?",
            "en": "Accessibility: what should we know?",
        },
        [],
    ),
    (
        QuestionKind.CHECKBOX,
        False,
        {
            "de": "Ich bringe Kinder mit (Kinderbetreuung vor Ort).",
            "en": "I am bringing children (childcare on site).",
        },
        [],
    ),
]


def _event_specs(today: datetime) -> list[dict]:
    """A dozen events around ``today``: past and future, in person, online, hybrid."""

    def at(days: int, hour: int, minute: int = 0) -> datetime:
        day = (today + timedelta(days=days)).date()
        return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)

    venue_koeln = {
        "venue_name": "Bürgerzentrum Ehrenfeld",
        "venue_address": "Venloer Str. 429",
        "venue_city": "Köln",
    }
    venue_hamburg = {
        "venue_name": "Kulturhaus Eppendorf",
        "venue_address": "Julius-Reincke-Stieg 13a",
        "venue_city": "Hamburg",
    }
    venue_leipzig = {
        "venue_name": "Westbad",
        "venue_address": "Odermannstraße 8",
        "venue_city": "Leipzig",
    }
    venue_berlin = {
        "venue_name": "Werkstatt der Kulturen",
        "venue_address": "Wissmannstraße 32",
        "venue_city": "Berlin",
    }
    online = {"online_url": "https://meet.example.org/outreach-demo"}
    return [
        # Two proposals in review, so the workspaces have something to do.
        dict(
            slug="erzaehlcafe-sahel",
            status=EventStatus.SUBMITTED,
            hosts=["sahel-forum", "brueckenwerk"],
            topics=["culture"],
            languages=["de", "fr"],
            start=at(24, 16),
            hours=2,
            capacity=30,
            **venue_koeln,
            de=("Erzählcafé: Ankommen in Köln", "Geschichten vom Ankommen, bei Tee und Gebäck."),
            en=("Story café: arriving in Cologne", "Stories of arriving, with tea and pastries."),
        ),
        dict(
            slug="nachbarschaftsfest-eppendorf",
            status=EventStatus.DRAFT,
            review_comment="Bitte noch die Barrierefreiheit des Saals beschreiben.",
            hosts=["anatolia-bridge"],
            topics=["civic"],
            languages=["de", "tr"],
            start=at(31, 14),
            hours=4,
            capacity=120,
            **venue_hamburg,
            de=("Nachbarschaftsfest Eppendorf", "Musik, Essen und Begegnung im Kulturhaus."),
            en=("Eppendorf neighbourhood party", "Music, food and meeting people."),
        ),
        dict(
            slug="diaspora-dialog-koeln",
            hosts=["brueckenwerk", "sahel-forum"],
            topics=["civic"],
            languages=["de", "fr"],
            start=at(9, 18),
            hours=2,
            capacity=60,
            **venue_koeln,
            de=("Diaspora-Dialog Köln", "Gemeinsam über Teilhabe in der Stadt sprechen."),
            en=("Diaspora Dialogue Cologne", "Talking together about participation in the city."),
        ),
        dict(
            slug="bewerbungstraining-online",
            hosts=["brueckenwerk"],
            topics=["work"],
            languages=["de", "en"],
            start=at(5, 17, 30),
            hours=1.5,
            capacity=None,
            **online,
            de=("Bewerbungstraining online", "Lebenslauf, Anschreiben und Vorstellungsgespräch."),
            en=("Job application workshop (online)", "CV, cover letter and the interview."),
        ),
        dict(
            slug="tet-fest-leipzig",
            hosts=["vietnam-haus", "brueckenwerk"],
            topics=["culture"],
            languages=["vi", "de"],
            start=at(40, 15),
            hours=5,
            capacity=200,
            max_guests=4,
            **venue_leipzig,
            de=("Tết-Fest in Leipzig", "Das vietnamesische Neujahrsfest – mit Essen und Musik."),
            en=("Tết festival in Leipzig", "The Vietnamese New Year – with food and music."),
        ),
        dict(
            slug="gesundheit-im-alter",
            hosts=["anatolia-bridge"],
            topics=["health"],
            languages=["tr", "de"],
            start=at(14, 16),
            hours=2,
            capacity=25,
            **venue_hamburg,
            **online,
            questions=True,
            de=("Gesundheit im Alter", "Pflege, Vorsorge und Rechte – auf Türkisch und Deutsch."),
            en=("Health in later life", "Care, prevention and rights – in Turkish and German."),
        ),
        dict(
            slug="elternabend-schule",
            hosts=["brueckenwerk", "anatolia-bridge", "sahel-forum"],
            topics=["education"],
            languages=["de", "tr", "ar"],
            start=at(7, 19),
            hours=2,
            capacity=8,
            max_guests=2,
            waitlist_enabled=True,
            **venue_hamburg,
            questions=True,
            fill=7,
            de=(
                "Elternabend: Das Schulsystem verstehen",
                "Wie funktioniert die Schule in Deutschland? Fragen willkommen.",
            ),
            en=(
                "Parents' evening: understanding the school system",
                "How do schools in Germany work? Questions welcome.",
            ),
        ),
        dict(
            slug="mentoring-kick-off",
            hosts=["andes-netz", "brueckenwerk"],
            topics=["work"],
            languages=["es", "de"],
            start=at(3, 18),
            hours=2,
            capacity=6,
            waitlist_enabled=True,
            **venue_berlin,
            fill=6,
            waiting=2,
            de=("Mentoring-Programm: Auftakt", "Mentorinnen und Mentees lernen sich kennen."),
            en=("Mentoring programme kick-off", "Mentors and mentees meet each other."),
        ),
        dict(
            slug="vereinsrecht-webinar",
            hosts=["brueckenwerk"],
            topics=["civic"],
            languages=["de"],
            start=at(21, 18),
            hours=1.5,
            capacity=100,
            **online,
            de=("Webinar: Einen Verein gründen", "Satzung, Eintragung, Gemeinnützigkeit."),
            en=("Webinar: founding an association", "Statutes, registration, charitable status."),
        ),
        dict(
            slug="filmabend-anden",
            hosts=["andes-netz"],
            topics=["culture"],
            languages=["es"],
            start=at(28, 20),
            hours=2.5,
            capacity=80,
            **venue_berlin,
            de=("Filmabend: Kino aus den Anden", "Ein Dokumentarfilm mit anschließendem Gespräch."),
            en=("Film night: cinema from the Andes", "A documentary followed by a conversation."),
        ),
        dict(
            slug="sprachcafe-koeln",
            hosts=["sahel-forum"],
            topics=["education", "culture"],
            languages=["de", "fr", "wo"],
            start=at(12, 17),
            hours=2,
            capacity=30,
            **venue_koeln,
            **online,
            de=("Sprachcafé", "Deutsch üben bei Tee und Gebäck – auch online dabei sein."),
            en=("Language café", "Practise German over tea and biscuits – join online too."),
        ),
        dict(
            slug="netzwerktreffen-herbst",
            hosts=["brueckenwerk", "vietnam-haus"],
            topics=["civic"],
            languages=["de"],
            start=at(-30, 18),
            hours=3,
            capacity=40,
            **venue_leipzig,
            de=("Netzwerktreffen Herbst", "Partnerorganisationen stellen ihre Arbeit vor."),
            en=("Autumn network meeting", "Partner organisations present their work."),
        ),
        dict(
            slug="gesundheitstag-rueckblick",
            hosts=["anatolia-bridge"],
            topics=["health"],
            languages=["tr", "de"],
            start=at(-60, 10),
            hours=6,
            capacity=120,
            **venue_hamburg,
            de=("Gesundheitstag", "Beratung und Vorträge rund um Gesundheit."),
            en=("Health day", "Advice and talks about health."),
        ),
        dict(
            slug="digitale-behoerdengaenge",
            hosts=["brueckenwerk"],
            topics=["civic", "work"],
            languages=["de", "en", "ar"],
            start=at(-10, 18),
            hours=1.5,
            capacity=None,
            **online,
            de=("Digitale Behördengänge", "Online-Termine, ELSTER und BundID erklärt."),
            en=("Dealing with authorities online", "Online appointments, ELSTER and BundID."),
        ),
    ]


def has_events() -> bool:
    return db.session.scalar(select(Event.id).limit(1)) is not None


def _get_or_create(model, slug: str, **values):
    existing = db.session.scalar(select(model).where(model.slug == slug))
    if existing is not None:
        return existing, False
    row = model(slug=slug, **values)
    db.session.add(row)
    return row, True


def seed(now: datetime | None = None) -> int:
    """Create whatever demo data is missing; return how many records were added."""
    now = now or utcnow()
    created = 0
    orgs = {}
    for slug, name, is_host, de, en in ORGANISATIONS:
        orgs[slug], new = _get_or_create(
            Organisation,
            slug,
            name=name,
            is_host=is_host,
            description={"de": de, "en": en},
            website=f"https://{slug}.example.org",
            contact_email=f"kontakt@{slug}.example.org",
        )
        created += new
    topics = {}
    for slug, de, en in TOPICS:
        topics[slug], new = _get_or_create(Topic, slug, names={"de": de, "en": en})
        created += new
    db.session.flush()

    for spec in _event_specs(now.astimezone(BERLIN)):
        if db.session.scalar(select(Event.id).where(Event.slug == spec["slug"])):
            continue
        created += 1 + _create_event(spec, orgs, topics, now)
    created += _add_demo_users(orgs)
    db.session.commit()
    return created


def _add_demo_users(orgs: dict) -> int:
    """A staff user and a partner user to log in with (DEMO_PASSWORD; demo data only)."""
    created = 0
    for email, role, org_slug, name in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.email == email)):
            continue
        user = User(
            email=email, role=role, name=name, organisation=orgs[org_slug] if org_slug else None
        )
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        created += 1
    return created


def _create_event(spec: dict, orgs: dict, topics: dict, now: datetime) -> int:
    start = spec["start"]
    status = spec.get("status", EventStatus.PUBLISHED)
    event = Event(
        slug=spec["slug"],
        status=status,
        review_comment=spec.get("review_comment"),
        submitted_at=now if status is EventStatus.SUBMITTED else None,
        published_at=now if status is EventStatus.PUBLISHED else None,
        starts_at=start,
        ends_at=start + timedelta(hours=spec["hours"]),
        capacity=spec.get("capacity"),
        max_guests=spec.get("max_guests", 1),
        waitlist_enabled=spec.get("waitlist_enabled", True),
        venue_name=spec.get("venue_name"),
        venue_address=spec.get("venue_address"),
        venue_city=spec.get("venue_city"),
        online_url=spec.get("online_url"),
        contact_email=orgs[spec["hosts"][0]].contact_email,
        topics=[topics[slug] for slug in spec["topics"]],
    )
    event.languages = spec["languages"]
    for locale in ("de", "en"):
        title, summary = spec[locale]
        event.translations[locale] = EventTranslation(
            locale=locale,
            title=title,
            summary=summary,
            description=f"{summary}\n\n"
            + (
                "Die Veranstaltung ist kostenlos. Bitte melden Sie sich an."
                if locale == "de"
                else "The event is free of charge. Please register."
            ),
        )
    db.session.add(event)
    db.session.flush()
    for position, slug in enumerate(spec["hosts"]):
        db.session.execute(
            event_hosts.insert().values(
                event_id=event.id, organisation_id=orgs[slug].id, position=position
            )
        )
    if spec.get("questions"):
        for position, (kind, required, label, options) in enumerate(ACCESSIBILITY_QUESTIONS):
            event.questions.append(
                RegistrationQuestion(
                    position=position,
                    kind=kind,
                    required=required,
                    label=label,
                    options=[{"value": v, "label": {"de": de, "en": en}} for v, de, en in options],
                )
            )
    return _add_demo_registrations(event, spec.get("fill", 0), spec.get("waiting", 0), now)


def _add_demo_registrations(event: Event, confirmed: int, waiting: int, now: datetime) -> int:
    """Fill seats with fictional people (no mail is owed to them)."""
    for number in range(confirmed + waiting):
        is_waiting = number >= confirmed
        db.session.add(
            Registration(
                event=event,
                name=f"Demo Person {number + 1}",
                email=f"demo{number + 1}.{event.slug}@example.org",
                language="de" if number % 2 else "en",
                status=RegistrationStatus.WAITLISTED
                if is_waiting
                else RegistrationStatus.CONFIRMED,
                waitlist_seq=number - confirmed + 1 if is_waiting else None,
                consent_version="demo",
                consented_at=now,
            )
        )
    return confirmed + waiting

"""An organisation's profile and logo: checked, audited, and logos stripped of metadata."""

from __future__ import annotations

import io

import pytest
from flask_babel import force_locale
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from outreach.extensions import db
from outreach.services import audit
from outreach.services.errors import InvalidInput
from outreach.services.organisations import (
    LOGO_NAME,
    MAX_LOGO_BYTES,
    NotAllowed,
    remove_logo,
    set_logo,
    update_profile,
)

ORIENTATION, MAKE, GPS_INFO = 0x0112, 0x010F, 0x8825


@pytest.fixture(autouse=True)
def in_english(app):
    """Services speak the reader's language; these tests read the English messages."""
    with force_locale("en"):
        yield


@pytest.fixture(autouse=True)
def logo_folder(app, tmp_path):
    app.config["LOGO_DIR"] = str(tmp_path / "logos")
    return tmp_path / "logos"


@pytest.fixture
def org(make_org):
    return make_org(name="Sahel Forum", website=None)


@pytest.fixture
def member(org, make_user):
    return make_user("partner", org=org)


def profile(**overrides) -> dict:
    values = {
        "name": "Sahel Forum",
        "description": {"de": "Eine Organisation", "en": "An org"},
        "website": None,
        "contact_email": None,
    }
    return {**values, **overrides}


def image_file(fmt: str, size=(400, 200), mode="RGB", **save) -> io.BytesIO:
    output = io.BytesIO()
    Image.new(mode, size, (10, 120, 200)).save(output, format=fmt, **save)
    output.seek(0)
    return output


def stored(folder, name: str) -> Image.Image:
    return Image.open(folder / name)


# -- the profile ---------------------------------------------------------------------------


def test_profile_changes_are_saved_and_audited_field_by_field(org, member):
    update_profile(
        org,
        by=member,
        **profile(
            name="  Sahel   Forum e.V. ",
            description={"de": "Wir verbinden.", "en": "  "},
            website="https://sahel.example.org/",
            contact_email="Info@Sahel.Example.org",
        ),
    )

    db.session.expire_all()
    assert org.name == "Sahel Forum e.V."
    assert org.description == {"de": "Wir verbinden."}
    assert org.website == "https://sahel.example.org/"
    assert org.contact_email == "info@sahel.example.org"
    [entry] = audit.entries_for(org)
    assert entry.action == "organisation.updated" and entry.actor_id == member.id
    assert entry.changes["name"] == ["Sahel Forum", "Sahel Forum e.V."]
    assert entry.changes["website"] == [None, "https://sahel.example.org/"]
    assert set(entry.changes) == {"name", "description", "website", "contact_email"}


def test_an_unchanged_profile_records_nothing(org, member):
    update_profile(org, by=member, **profile(contact_email=org.contact_email))

    assert audit.entries_for(org) == []


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Evil\u202eName"}, "name"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "https://"}, "website"),
        ({"website": "https://exa mple.org"}, "website"),
        ({"contact_email": "not an address"}, "contact_email"),
        ({"description": {"de": "x" * 2001}}, "description.de"),
        ({"description": {"xx": "Unbekannt"}}, "description.xx"),
    ],
)
def test_bad_profile_input_is_refused_and_nothing_changes(org, member, values, field):
    with pytest.raises(InvalidInput) as refused:
        update_profile(org, by=member, **profile(**values))

    assert field in refused.value.errors
    db.session.expire_all()
    assert org.name == "Sahel Forum"
    assert audit.entries_for(org) == []


def test_only_the_organisations_own_users_and_staff_may_change_it(org, make_org, make_user):
    stranger = make_user("partner", org=make_org())

    with pytest.raises(NotAllowed):
        update_profile(org, by=stranger, **profile(name="Gekapert"))
    with pytest.raises(NotAllowed):
        set_logo(org, image_file("PNG"), by=stranger)

    update_profile(org, by=make_user("staff"), **profile(name="Von der Zentrale"))
    db.session.expire_all()
    assert org.name == "Von der Zentrale"


# -- the logo --------------------------------------------------------------------------------


def test_a_png_logo_is_re_encoded_to_at_most_512_pixels(org, member, logo_folder):
    text = PngInfo()
    text.add_text("Comment", "made by a secret person")
    source = image_file("PNG", size=(1600, 800), mode="RGBA", pnginfo=text)

    set_logo(org, source, by=member)

    db.session.expire_all()
    assert LOGO_NAME.fullmatch(org.logo_path) and org.logo_path.endswith(".png")
    logo = stored(logo_folder, org.logo_path)
    assert logo.format == "PNG" and logo.size == (512, 256) and logo.mode == "RGBA"
    assert b"secret person" not in (logo_folder / org.logo_path).read_bytes()
    [entry] = audit.entries_for(org)
    assert entry.changes == {"logo_path": [None, org.logo_path]}


def test_the_same_picture_keeps_its_name(org, member):
    set_logo(org, image_file("PNG"), by=member)
    first = org.logo_path

    set_logo(org, image_file("PNG"), by=member)

    assert org.logo_path == first
    assert len(audit.entries_for(org)) == 1


def test_a_jpeg_loses_its_exif_and_is_turned_upright(org, member, logo_folder):
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # "rotate 90° clockwise to show"
    exif[MAKE] = "Spy Camera"
    exif[GPS_INFO] = {1: "N", 2: (52.0, 31.0, 12.0)}
    source = image_file("JPEG", size=(400, 200), exif=exif.tobytes())
    assert Image.open(source).getexif()[MAKE] == "Spy Camera"
    source.seek(0)

    set_logo(org, source, by=member)

    db.session.expire_all()
    logo = stored(logo_folder, org.logo_path)
    assert logo.format == "WEBP"
    assert logo.size == (200, 400)
    assert dict(logo.getexif()) == {}
    assert "exif" not in logo.info and "icc_profile" not in logo.info
    assert b"Spy Camera" not in (logo_folder / org.logo_path).read_bytes()


def test_a_text_file_named_like_an_image_is_refused(org, member, logo_folder):
    with pytest.raises(InvalidInput) as refused:
        set_logo(org, io.BytesIO(b"<svg onload=alert(1)>not a png</svg>"), by=member)

    assert refused.value.errors == {"logo": "This file is not an image we can read."}
    assert org.logo_path is None
    assert not logo_folder.exists()


def test_an_image_of_another_type_is_refused(org, member):
    with pytest.raises(InvalidInput) as refused:
        set_logo(org, image_file("GIF"), by=member)

    assert refused.value.errors == {"logo": "Please upload a PNG, JPEG or WebP image."}


def test_a_file_over_2_mb_is_refused_before_it_is_read_as_an_image(org, member):
    with pytest.raises(InvalidInput) as refused:
        set_logo(org, io.BytesIO(b"\x89PNG" + b"\0" * MAX_LOGO_BYTES), by=member)

    assert "at most 2 MB" in refused.value.errors["logo"]


def test_an_empty_or_broken_file_is_refused(org, member):
    truncated = image_file("PNG").getvalue()[:200]

    for content in (b"", truncated):
        with pytest.raises(InvalidInput):
            set_logo(org, io.BytesIO(content), by=member)

    assert org.logo_path is None


def test_a_new_logo_replaces_the_old_file_and_removing_deletes_it(org, member, logo_folder):
    set_logo(org, image_file("PNG"), by=member)
    old = org.logo_path

    set_logo(org, image_file("WEBP", size=(300, 300)), by=member)

    new = org.logo_path
    assert new != old and new.endswith(".webp")
    assert not (logo_folder / old).exists() and (logo_folder / new).exists()

    remove_logo(org, by=member)

    db.session.expire_all()
    assert org.logo_path is None
    assert not (logo_folder / new).exists()
    actions = [entry.changes["logo_path"] for entry in audit.entries_for(org)]
    assert actions == [[new, None], [old, new], [None, old]]

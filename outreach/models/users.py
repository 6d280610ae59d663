"""Staff and partner accounts."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from outreach.extensions import db
from outreach.models.organisations import Organisation
from outreach.models.types import UTCDateTime, str_enum, utcnow


def password_hash_method() -> str:
    """Werkzeug's hashing method: scrypt at its full cost, unless the tests ask for less."""
    return (
        current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
    )


class Role(enum.StrEnum):
    STAFF = "staff"
    PARTNER = "partner"


class User(UserMixin, db.Model):
    """A person who logs in: staff, or a partner organisation's member.

    Flask-Login reads ``is_active`` from here: the column, declared in this
    class, takes precedence over UserMixin's always-true property.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role != 'partner' OR organisation_id IS NOT NULL",
            name="partner_has_organisation",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_staff(self) -> bool:
        return self.role is Role.STAFF

    @property
    def password_fingerprint(self) -> str:
        """Changes whenever the password does (used for single-use links and sessions)."""
        return hashlib.sha256(self.password_hash.encode("utf-8")).hexdigest()[:16]

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session and the remember-me cookie.

        It includes the password's fingerprint: a new password ends every
        other session of the account, remembered ones included.
        """
        return f"{self.id}:{self.password_fingerprint}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


class ApiToken(db.Model):
    """A bearer token for the JSON API, acting as its user; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.user.is_active

"""The login form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, PasswordField, SubmitField
from wtforms.validators import DataRequired

from outreach.services.registration_input import MAX_EMAIL_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        [DataRequired(_l("Please enter your email address."))],
        render_kw={"autocomplete": "username", "maxlength": MAX_EMAIL_LENGTH},
    )
    password = PasswordField(
        _l("Password"),
        [DataRequired(_l("Please enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(
        _l("Stay logged in on this device"),
        description=_l("Only on a device that nobody else uses."),
    )
    submit = SubmitField(_l("Log in"))

    def fields_in_order(self) -> list[Field]:
        """The fields the error summary links to, in page order."""
        return [self.email, self.password, self.remember]

    def refuse(self) -> None:
        """Say the credentials are wrong, without saying which of the two."""
        self.form_errors.append(_l("Email or password is wrong."))

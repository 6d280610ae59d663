"""The login form, the forgotten-password form, and the forms of the account pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from outreach.public.robot_trap import RobotTrapMixin
from outreach.services.registration_input import MAX_EMAIL_LENGTH
from outreach.services.users import MIN_PASSWORD_LENGTH


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


class ForgotPasswordForm(RobotTrapMixin):
    email = EmailField(
        _l("Email address"),
        [DataRequired(_l("Please enter your email address."))],
        render_kw={"autocomplete": "username", "maxlength": MAX_EMAIL_LENGTH},
    )
    submit = SubmitField(_l("Send the link"))

    def fields_in_order(self) -> list[Field]:
        return [self.email]


class NewPasswordForm(FlaskForm):
    """Choose a password, from a reset link or an invitation."""

    password = PasswordField(
        _l("New password"),
        [
            DataRequired(_l("Please choose a password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l("Please use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            ),
        ],
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        [
            DataRequired(_l("Please repeat the password.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Save the password"))

    def fields_in_order(self) -> list[Field]:
        return [self.password, self.confirm]


class CreateTokenForm(FlaskForm):
    """Name a new API token."""

    name = StringField(
        _l("Name of the token"),
        [
            DataRequired(_l("Please give the token a name.")),
            Length(max=100, message=_l("Please use at most %(n)d characters.", n=100)),
        ],
        description=_l("What it is for, e.g. “Website import” or “CI”."),
        render_kw={"maxlength": 100, "autocomplete": "off"},
    )
    submit = SubmitField(_l("Create a token"))

    def fields_in_order(self) -> list[Field]:
        return [self.name]


class RevokeTokenForm(FlaskForm):
    """Confirm revoking an API token (the form carries only the CSRF token)."""

    submit = SubmitField(_l("Yes, revoke the token"))

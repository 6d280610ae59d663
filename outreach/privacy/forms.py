"""The public form that asks for a copy or the erasure of one's data."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, RadioField, SelectChoice, SubmitField
from wtforms.validators import DataRequired

from outreach.form_errors import ServiceErrorsMixin
from outreach.models import PrivacyRequestKind
from outreach.public.robot_trap import RobotTrapMixin
from outreach.services.registration_input import MAX_EMAIL_LENGTH


class PrivacyRequestForm(ServiceErrorsMixin, RobotTrapMixin):
    field_order = ("email", "kind")

    email = EmailField(
        _l("Your email address"),
        [DataRequired(_l("Please enter your email address."))],
        description=_l("We send the link to this address: only its owner can go on."),
        render_kw={"autocomplete": "email", "maxlength": MAX_EMAIL_LENGTH},
    )
    kind = RadioField(
        _l("What would you like us to do?"),
        [DataRequired(_l("Please choose what you would like us to do."))],
        choices=[
            SelectChoice(PrivacyRequestKind.EXPORT.value, _l("Send me a copy of my data")),
            SelectChoice(PrivacyRequestKind.ERASURE.value, _l("Erase my data")),
        ],
        invalid_choice_message=_l("Please choose what you would like us to do."),
    )
    submit = SubmitField(_l("Send me the link"))

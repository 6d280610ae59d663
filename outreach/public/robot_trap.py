"""A trap for robots on public forms: a hidden field and a minimum time to fill in.

People never see the ``homepage`` field (it is hidden from eyes and screen
readers), so only a robot fills it in. ``rendered_at`` carries the time the
form was first shown, signed so it cannot be forged; a form sent back sooner
than ``FORM_MIN_SECONDS`` was hardly filled in by a person. Views treat a robot
caught by the hidden field like a success, so it learns nothing.
"""

from __future__ import annotations

import time

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer
from wtforms import HiddenField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import Input

_SALT = "outreach.robot-trap"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _stamp_now() -> str:
    return _serializer().dumps(round(time.time(), 3))


class _StampInput(Input):
    """A hidden input that ``form.hidden_tag()`` leaves out: ``robot_trap(form)`` renders it.

    (hidden_tag renders every field whose widget is a HiddenInput; the stamp
    would stand twice on a page that uses both.)
    """

    input_type = "hidden"
    validation_attrs: list[str] = []


class RobotTrapMixin(FlaskForm):
    """Add to a public form; render with ``robot_trap(form)`` from macros/forms.html.

    The hidden field is checked by ``filled_by_a_robot()`` (views drop such a
    form silently). The time is checked in ``validate()``: a form sent back too
    fast is shown again with a request to check it and send it once more, so a
    quick person loses nothing.
    """

    homepage = StringField(
        _l("Leave this field empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )
    rendered_at = HiddenField(widget=_StampInput())

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if _shown_at(self.rendered_at.data) is None:
            self.rendered_at.data = _stamp_now()

    def filled_by_a_robot(self) -> bool:
        """Return whether the hidden trap field holds anything."""
        return bool((self.homepage.data or "").strip())

    def validate_rendered_at(self, field: HiddenField) -> None:
        minimum = float(current_app.config.get("FORM_MIN_SECONDS", 0))
        shown = _shown_at(field.data)
        if minimum > 0 and (shown is None or time.time() - shown < minimum):
            field.data = _stamp_now()
            raise ValidationError(
                _l("That was very quick. Please check your entries, then send the form again.")
            )


def _shown_at(stamp: str | None) -> float | None:
    """The time in a genuine stamp, or None."""
    try:
        return float(_serializer().loads(stamp or ""))
    except (BadSignature, TypeError, ValueError):
        return None

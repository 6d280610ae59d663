"""Show a service's field errors on the form that sent its input."""

from __future__ import annotations

from wtforms import Field

from outreach.services.errors import InvalidInput


class ServiceErrorsMixin:
    """Put a service's field errors next to the fields, the rest above the form.

    ``field_order`` names the fields the error summary links to, in page order.
    """

    field_order: tuple[str, ...] = ()

    def fields_in_order(self) -> list[Field]:
        """Return the fields the error summary links to, in page order."""
        return [self._fields[name] for name in self.field_order]

    def apply_errors(self, problem: InvalidInput) -> None:
        """Show each of the service's messages at its field, unless the field has one."""
        for name, message in problem.errors.items():
            field = self._fields.get(name) if name in self.field_order else None
            if field is None:
                self.form_errors.append(message)
            elif not field.errors:
                field.errors = [message]

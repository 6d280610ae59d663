"""Domain errors: what a service refuses to do, in words a person can read."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from outreach.models import RegistrationWindow


class DomainError(Exception):
    """A request the domain refuses; ``message`` is shown to the person."""

    def __init__(self, message: str | None = None):
        self.message = message or str(self.default_message)
        # The readable message, not "None", in logs and tracebacks.
        super().__init__(self.message)

    default_message = _l("This request cannot be completed.")


class InvalidInput(DomainError):
    """Field-level problems with what someone submitted."""

    default_message = _l("Please correct the marked fields.")

    def __init__(self, errors: dict[str, str]):
        super().__init__()
        self.errors = errors


class RegistrationClosed(DomainError):
    """The event does not take registrations right now."""

    MESSAGES = {
        RegistrationWindow.NOT_YET_OPEN: _l("Registration has not opened yet."),
        RegistrationWindow.CLOSED: _l("Registration for this event is closed."),
        RegistrationWindow.PAST: _l("This event has already taken place."),
        RegistrationWindow.CANCELLED: _l("This event has been cancelled."),
        RegistrationWindow.UNPUBLISHED: _l("This event does not take registrations."),
    }

    def __init__(self, reason: RegistrationWindow):
        super().__init__(str(self.MESSAGES[reason]))
        self.reason = reason


class EventFull(DomainError):
    default_message = _l("Sorry, this event is fully booked.")


class NotEnoughSeats(DomainError):
    default_message = _l("There are not enough seats left for that many guests.")


class RegistrationNotChangeable(DomainError):
    default_message = _l("This registration can no longer be changed.")


class MessageNotFound(DomainError):
    """No outbox message has the id asked for."""

    default_message = _l("There is no such message in the mail queue.")


class MessageNotRetryable(DomainError):
    """Only a failed message goes back into the queue, and not to a suppressed address."""

    default_message = _l("Only a failed message can be sent again.")

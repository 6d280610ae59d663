from outreach.models import MessageKind, RegistrationStatus


def test_registration_is_confirmed_while_seats_remain(make_event, make_registration, outbox):
    event = make_event(capacity=2)

    outcome = make_registration(event)

    assert outcome.status is RegistrationStatus.CONFIRMED
    assert [row.kind for row in outbox()] == [MessageKind.REGISTRATION_CONFIRMED]
    assert outbox()[0].payload["token"] == outcome.token

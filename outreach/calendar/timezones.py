"""VTIMEZONE components that Outlook, Google, Apple and Thunderbird read alike.

Each observance (STANDARD or DAYLIGHT) starts at its first onset in the
covered years, written in the local time in force *before* the change, as
RFC 5545 asks; where the onsets follow a yearly rule ("last Sunday in March")
it is given as an RRULE, the form Outlook relies on, and otherwise as RDATEs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur


@dataclass(frozen=True)
class Transition:
    at: datetime  # the UTC instant of the change
    offset_from: timedelta
    offset_to: timedelta
    name: str
    is_daylight: bool

    @property
    def local_onset(self) -> datetime:
        """The wall-clock time of the change, before it happens (naive)."""
        return (self.at + self.offset_from).replace(tzinfo=None)


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(zone).utcoffset() or timedelta(0)


def _find_change(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """Narrow an offset change between two UTC instants down to the minute."""
    while after - before > timedelta(minutes=1):
        middle = before + (after - before) / 2
        if _offset(zone, middle) == _offset(zone, before):
            before = middle
        else:
            after = middle
    return after.replace(second=0, microsecond=0)


def _starts_daylight(zone: ZoneInfo, at: datetime) -> bool:
    """Whether the change at ``at`` starts summer time (a DAYLIGHT part).

    tzdata gives Irish winter time and Morocco's Ramadan time a negative DST;
    calendars expect DAYLIGHT to be the later offset, so leaving a negative
    DST counts as starting daylight time, and entering one as standard time.
    """
    after = at.astimezone(zone).dst() or timedelta(0)
    before = (at - timedelta(minutes=1)).astimezone(zone).dst() or timedelta(0)
    return after > timedelta(0) or before < timedelta(0)


def transitions(tzid: str, first_year: int, last_year: int) -> list[Transition]:
    """Every change of UTC offset in the zone during the given years."""
    zone = ZoneInfo(tzid)
    found = []
    instant = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    step = timedelta(days=1)
    while instant < end:
        following = instant + step
        if _offset(zone, following) != _offset(zone, instant):
            at = _find_change(zone, instant, following)
            local = at.astimezone(zone)
            found.append(
                Transition(
                    at=at,
                    offset_from=_offset(zone, at - timedelta(minutes=1)),
                    offset_to=_offset(zone, at),
                    name=local.tzname() or tzid,
                    is_daylight=_starts_daylight(zone, at),
                )
            )
        instant = following
    return found


def _nth_weekday(day: date) -> int:
    """1 for the first such weekday of the month … or -1 when it is the last one."""
    if (day + timedelta(days=7)).month != day.month:
        return -1
    return (day.day - 1) // 7 + 1


WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _yearly_rule(onsets: list[datetime]) -> str | None:
    """An RRULE that yields exactly these yearly onsets, if one does."""
    if len(onsets) < 2:
        return None
    first = onsets[0]
    shape = {(o.month, o.weekday(), _nth_weekday(o.date()), o.time()) for o in onsets}
    years = [o.year for o in onsets]
    if len(shape) != 1 or years != list(range(years[0], years[0] + len(years))):
        return None
    return (
        f"FREQ=YEARLY;BYMONTH={first.month};"
        f"BYDAY={_nth_weekday(first.date())}{WEEKDAYS[first.weekday()]}"
    )


def _observance(group: list[Transition], *, goes_on: bool):
    """One STANDARD or DAYLIGHT part from the onsets that share its offsets and name."""
    first = group[0]
    component = TimezoneDaylight() if first.is_daylight else TimezoneStandard()
    component.add("tzname", first.name)
    component.add("dtstart", first.local_onset)
    component.add("tzoffsetfrom", first.offset_from)
    component.add("tzoffsetto", first.offset_to)
    onsets = [t.local_onset for t in group]
    rule = _yearly_rule(onsets)
    if rule and not goes_on:
        rule = f"{rule};UNTIL={group[-1].at:%Y%m%dT%H%M%SZ}"
    if rule:
        component.add("rrule", vRecur.from_ical(rule))
    else:
        # The first onset again: ical.js (Thunderbird) reads only the RDATEs of
        # a part without RRULE and would otherwise miss the DTSTART onset.
        for onset in onsets:
            component.add("rdate", onset)
    return component


@lru_cache(maxsize=256)
def _vtimezone_ical(tzid: str, first_year: int, last_year: int) -> bytes:
    # A year either side, so that yearly rules show (and the edges are covered).
    first_year, last_year = first_year - 1, last_year + 1
    zone = ZoneInfo(tzid)
    found = transitions(tzid, first_year, last_year)
    timezone = Timezone()
    timezone.add("tzid", tzid)
    if not found:
        midsummer = datetime(first_year, 7, 1, tzinfo=UTC).astimezone(zone)
        offset = midsummer.utcoffset() or timedelta(0)
        standard = TimezoneStandard()
        standard.add("tzname", midsummer.tzname() or tzid)
        standard.add("dtstart", datetime(1970, 1, 1))  # noqa: DTZ001  (local time by design)
        standard.add("tzoffsetfrom", offset)
        standard.add("tzoffsetto", offset)
        timezone.add_component(standard)
        return timezone.to_ical()
    groups: dict[tuple, list[Transition]] = {}
    for transition in found:
        key = (
            transition.offset_from,
            transition.offset_to,
            transition.name,
            transition.is_daylight,
        )
        groups.setdefault(key, []).append(transition)
    for group in groups.values():
        # A rule whose onsets reach the last year goes on; one that stopped earlier ends.
        timezone.add_component(_observance(group, goes_on=group[-1].at.year == last_year))
    return timezone.to_ical()


def vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE for ``tzid`` covering the given years (cached; returns a copy)."""
    return Timezone.from_ical(_vtimezone_ical(tzid, first_year, last_year))


__all__ = ["Transition", "transitions", "vtimezone"]

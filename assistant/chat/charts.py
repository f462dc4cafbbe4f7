"""The chat statistics staff watch, as server-rendered SVG: intents as bars named in words, and
the assistant's turns day by day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from django.utils.translation import gettext as _

from assistant.chat.intents import intent_label
from assistant.chat.selectors import DayCounts
from assistant.core.charts import Series, bars_svg, day_label, lines_svg

# What fits left of a bar (the shared chart leaves its names 126 px at 10 px type).
NAME_CHARS = 22
# A line needs two points: turns on one day only have no trend to show yet.
MIN_DAYS = 2


def intent_name(intent: str) -> str:
    """An intent in words, cut at a word to name a bar: `card_arrival` -> "Card arrival"."""
    name = intent_label(intent) or _("(no intent)")
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1].rsplit(" ", 1)[0] + "…"


def intents_svg(counts: Sequence[tuple[str, int]], *, title: str) -> str:
    """A bar an intent, on a linear scale; "" when there are none."""
    return bars_svg([(intent_name(intent), n, str(n)) for intent, n in counts], title=title, log=False)


def _midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _day(timestamp: float) -> str:
    """A day's date; "" for a tick between two days."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return day_label(timestamp) if moment == datetime.combine(moment.date(), time(), UTC) else ""


def turns_by_day_svg(days: Sequence[DayCounts]) -> str:
    """The assistant's turns a day, and how many of them handed off; "" until there are turns on
    two days or more."""
    if len(days) < MIN_DAYS:
        return ""
    return lines_svg(
        [
            Series(_("all turns"), [(_midnight(d.day), d.turns) for d in days]),
            Series(_("handed off"), [(_midnight(d.day), d.handoffs) for d in days]),
        ],
        label=_("assistant turns by day, and those handed off to a colleague"),
        x_title=_("day"),
        y_title=_("assistant turns"),
        x_format=_day,
        y_format="{:.0f}",
        y_range=(0.0, float(max(d.turns for d in days))),
    )

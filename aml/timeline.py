"""A customer's transactions over time as server-rendered SVG: x the booking date, y the amount (on a
log scale when the amounts span decades), the transactions a rule cites drawn as red diamonds whose
titles name the rules, the screened transaction ringed. Built on `assistant.core.charts`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assistant.core.charts import HEIGHT, PAD, WIDTH, Scale, axes, day_label, svg_open, ticks

# Amounts whose largest is this many times the smallest are drawn on a log scale.
LOG_RATIO = 100
PLAIN, FLAGGED, SCREENED = "#7b8794", "#c62828", "#102a43"
INSET = 8  # keeps a mark at the window's edge off the axis


@dataclass(frozen=True)
class Mark:
    booked_at: datetime
    amount: float
    currency: str
    text: str  # what the transaction is, for its title
    flagged_by: tuple[tuple[str, str], ...]  # the rules citing it: reason code and name
    screened: bool


def _compact(value: float) -> str:
    for size, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def _ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5 and 5 times a power of ten at or above the value."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value)


def amount_scale(amounts: Sequence[float]) -> Scale:
    """Logarithmic from power of ten to power of ten when the amounts span decades, else linear from 0."""
    low, high = min(amounts), max(amounts)
    bottom, top = HEIGHT - PAD, PAD / 2
    if high >= LOG_RATIO * low:
        decades = 10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high))
        return Scale(*decades, bottom, top, log=True)
    return Scale(0.0, _ceiling(high), bottom, top)


def _title(mark: Mark) -> str:
    rules = ", ".join(f"{code} ({name})" for code, name in mark.flagged_by)
    flagged = _("; flagged by %(rules)s") % {"rules": rules} if rules else ""
    screened = _("; the screened transaction") if mark.screened else ""
    return f"{mark.text}{flagged}{screened}"


def _mark(mark: Mark, x: float, y: float) -> str:
    title = f"<title>{escape(_title(mark))}</title>"
    if mark.flagged_by:
        codes = escape(" ".join(code for code, _name in mark.flagged_by))
        shape = (
            f'<path class="mark flagged" data-codes="{codes}" d="M{x:.1f},{y - 6:.1f} l6,6 l-6,6 l-6,-6 z" '
            f'fill="{FLAGGED}" stroke="#fff">{title}</path>'
        )
    else:
        shape = (
            f'<circle class="mark plain" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{PLAIN}">{title}</circle>'
        )
    if mark.screened:
        shape += (
            f'<circle class="mark screened" cx="{x:.1f}" cy="{y:.1f}" r="10" fill="none" '
            f'stroke="{SCREENED}" stroke-width="1.5">{title}</circle>'
        )
    return shape


def timeline_svg(marks: Sequence[Mark], *, start: datetime, end: datetime) -> str:
    """The marks between `start` and `end` (widened to any mark outside); "" when there are none."""
    if not marks:
        return ""
    first = min(start, *(m.booked_at for m in marks)).timestamp()
    last = max(end, *(m.booked_at for m in marks)).timestamp()
    x = Scale(first, last, PAD + INSET, WIDTH - PAD / 2 - INSET)
    y = amount_scale([max(m.amount, 0.01) for m in marks])
    currencies = sorted({m.currency for m in marks})
    unit = currencies[0] if len(currencies) == 1 else _("as booked, not converted")
    y_title = (
        _("amount (%(unit)s, log scale)") % {"unit": unit}
        if y.log
        else _("amount (%(unit)s)") % {"unit": unit}
    )
    flagged = sum(1 for m in marks if m.flagged_by)
    label = ngettext(
        "The customer's %(count)d transaction from %(first)s to %(last)s, "
        "%(flagged)d of them cited by a rule",
        "The customer's %(count)d transactions from %(first)s to %(last)s, "
        "%(flagged)d of them cited by a rule",
        len(marks),
    ) % {"count": len(marks), "first": day_label(first), "last": day_label(last), "flagged": flagged}
    parts = [
        svg_open(label),
        axes(_("booked (UTC)"), y_title),
        ticks(x, y, x_format=day_label, y_format=_compact),
    ]
    ordered = sorted(marks, key=lambda m: (bool(m.flagged_by), m.screened))
    parts += [_mark(m, x(m.booked_at.timestamp()), y(max(m.amount, 0.01))) for m in ordered]
    parts.append("</svg>")
    return "".join(parts)

"""Server-rendered SVG charts (no script, no network) with the parts every chart of the project
shares: a titled plot area, scales (linear or logarithmic), axes with their titles and ticks, and
a line chart and horizontal bars built from them. Each mark carries a <title> with its value."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.translation import gettext, pgettext

WIDTH, HEIGHT, PAD = 560, 260, 44
COLOURS = ("#36c", "#c60", "#393", "#939", "#c33", "#069", "#996", "#666")


@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[float, float]]


def day_label(timestamp: float) -> str:
    """A day, in UTC, as short as an axis needs it in the reader's language ("4 Dec", "12月4日")."""
    return date_format(datetime.fromtimestamp(timestamp, tz=UTC), pgettext("a day on a chart's axis", "j M"))


def svg_open(label: str, *, width: int = WIDTH, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto" '
        f'font-family="sans-serif" font-size="10" role="img" aria-label="{escape(label)}">'
    )


def axes(x_title: str, y_title: str) -> str:
    bottom, right = HEIGHT - PAD, WIDTH - PAD / 2
    return (
        f'<line x1="{PAD}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>'
        f'<line x1="{PAD}" y1="{PAD / 2}" x2="{PAD}" y2="{bottom}" stroke="#999"/>'
        f'<text x="{right}" y="{HEIGHT - 8}" text-anchor="end">{escape(x_title)}</text>'
        f'<text x="4" y="{PAD / 2 - 6}">{escape(y_title)}</text>'
    )


class Scale:
    """Maps data to the plot area; logarithmic where asked (latency and examples span decades)."""

    def __init__(self, low: float, high: float, start: float, end: float, *, log: bool = False) -> None:
        self.log = log
        self.low, self.high = (math.log10(low), math.log10(high)) if log else (low, high)
        if self.high <= self.low:
            self.high = self.low + 1
        self.start, self.end = start, end

    def __call__(self, value: float) -> float:
        value = math.log10(max(value, 1e-9)) if self.log else value
        return self.start + (self.end - self.start) * (value - self.low) / (self.high - self.low)

    def ticks(self) -> list[float]:
        if self.log:
            return [10.0**power for power in range(math.floor(self.low), math.ceil(self.high) + 1)]
        step = (self.high - self.low) / 4
        return [self.low + step * i for i in range(5)]


Format = Callable[[float], str]


def _formatted(shape: str | Format) -> Format:
    return shape.format if isinstance(shape, str) else shape


def ticks(x: Scale, y: Scale, *, x_format: str | Format = "{:g}", y_format: str | Format = "{:.2f}") -> str:
    x_label, y_label = _formatted(x_format), _formatted(y_format)
    parts = []
    for value in x.ticks():
        position = x(value)
        if PAD <= position <= WIDTH - PAD / 2 + 1:
            parts.append(
                f'<text x="{position:.1f}" y="{HEIGHT - PAD + 14}" text-anchor="middle">'
                f"{escape(x_label(value))}</text>"
            )
    for value in y.ticks():
        parts.append(
            f'<text x="{PAD - 4}" y="{y(value) + 3:.1f}" text-anchor="end">{escape(y_label(value))}</text>'
            f'<line x1="{PAD}" y1="{y(value):.1f}" x2="{WIDTH - PAD / 2}" y2="{y(value):.1f}" stroke="#eee"/>'
        )
    return "".join(parts)


def lines_svg(
    series: Sequence[Series],
    *,
    label: str,
    x_title: str,
    y_title: str,
    x_format: str | Format = "{:g}",
    y_format: str | Format = "{:.2f}",
    y_range: tuple[float, float] | None = None,
    log_x: bool = False,
) -> str:
    """A line per series with a dot a point, named at its last point; "" when there is nothing to draw."""
    drawn = [s for s in series if s.points]
    if not drawn:
        return ""
    xs = [px for s in drawn for px, _ in s.points]
    ys = [py for s in drawn for _, py in s.points]
    if log_x:
        x = Scale(max(min(xs) / 1.5, 1e-9), max(xs) * 1.5, PAD, WIDTH - PAD * 2.2, log=True)
    else:
        x = Scale(min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1, PAD, WIDTH - PAD * 2.2)
    low, high = y_range or (min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1)
    y = Scale(low, high, HEIGHT - PAD, PAD / 2)
    parts = [svg_open(label), axes(x_title, y_title), ticks(x, y, x_format=x_format, y_format=y_format)]
    x_label, y_label = _formatted(x_format), _formatted(y_format)
    for i, line in enumerate(drawn):
        colour = COLOURS[i % len(COLOURS)]
        ordered = sorted(line.points)
        path = " ".join(f"{x(px):.1f},{y(py):.1f}" for px, py in ordered)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>')
        parts += [
            f'<circle cx="{x(px):.1f}" cy="{y(py):.1f}" r="3" fill="{colour}"><title>'
            + escape(
                gettext("%(series)s: %(value)s at %(x)s")
                % {"series": line.name, "value": y_label(py), "x": x_label(px)}
            )
            + "</title></circle>"
            for px, py in ordered
        ]
        last_x, last_y = ordered[-1]
        parts.append(
            f'<text x="{x(last_x) + 6:.1f}" y="{y(last_y) + 3:.1f}" fill="{colour}">'
            f"{escape(line.name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(bars: Sequence[tuple[str, float, str]], *, title: str, log: bool = True) -> str:
    """Horizontal bars, on a log scale unless asked otherwise: (name, value, label shown at the
    bar's end); "" when there are none."""
    if not bars:
        return ""
    row = 22
    height = PAD + row * len(bars)
    values = [max(v, 1e-3) for _, v, _ in bars]
    if log:
        x = Scale(min(values) / 2, max(values) * 2, 130, WIDTH - 120, log=True)
    else:
        x = Scale(0.0, max(values), 130, WIDTH - 120)
    parts = [svg_open(title, height=height), f'<text x="4" y="14">{escape(title)}</text>']
    for i, (name, value, shown) in enumerate(bars):
        top = 24 + i * row
        end = x(max(value, 1e-3))
        parts.append(
            f'<text x="126" y="{top + 12}" text-anchor="end">{escape(name)}</text>'
            f'<rect x="130" y="{top}" width="{max(end - 130, 1):.1f}" height="{row - 6}" '
            f'fill="{COLOURS[i % len(COLOURS)]}"><title>{escape(name)}: {escape(shown)}</title></rect>'
            f'<text x="{end + 4:.1f}" y="{top + 12}">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)

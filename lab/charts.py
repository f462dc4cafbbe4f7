"""A study's plots as server-rendered SVG (no script, no network): accuracy against p95 latency,
the learning curves, the update-cost bars, and the freshness of a knowledge study."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape

WIDTH, HEIGHT, PAD = 560, 260, 44
COLOURS = ("#36c", "#c60", "#393", "#939", "#c33", "#069", "#996", "#666")


@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[float, float]]


def _open(label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'font-family="sans-serif" font-size="10" role="img" aria-label="{escape(label)}">'
    )


def _axes(x_title: str, y_title: str) -> str:
    bottom, right = HEIGHT - PAD, WIDTH - PAD / 2
    return (
        f'<line x1="{PAD}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>'
        f'<line x1="{PAD}" y1="{PAD / 2}" x2="{PAD}" y2="{bottom}" stroke="#999"/>'
        f'<text x="{right}" y="{HEIGHT - 8}" text-anchor="end">{escape(x_title)}</text>'
        f'<text x="4" y="{PAD / 2 - 6}">{escape(y_title)}</text>'
    )


class _Scale:
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


def _ticks(x: _Scale, y: _Scale, *, x_format: str = "{:g}", y_format: str = "{:.2f}") -> str:
    parts = []
    for value in x.ticks():
        position = x(value)
        if PAD <= position <= WIDTH - PAD / 2 + 1:
            parts.append(
                f'<text x="{position:.1f}" y="{HEIGHT - PAD + 14}" text-anchor="middle">'
                f"{x_format.format(value)}</text>"
            )
    for value in y.ticks():
        parts.append(
            f'<text x="{PAD - 4}" y="{y(value) + 3:.1f}" text-anchor="end">{y_format.format(value)}</text>'
            f'<line x1="{PAD}" y1="{y(value):.1f}" x2="{WIDTH - PAD / 2}" y2="{y(value):.1f}" stroke="#eee"/>'
        )
    return "".join(parts)


def accuracy_latency_svg(
    points: Sequence[tuple[str, float, float]], *, budget_ms: float | None = None, floor: float | None = None
) -> str:
    """One point per technique: (name, p95 ms, accuracy); the latency budget and accuracy floor drawn."""
    if not points:
        return ""
    latencies = [p for _, p, _ in points] + ([budget_ms] if budget_ms else [])
    accuracies = [a for _, _, a in points] + ([floor] if floor is not None else [])
    x = _Scale(max(min(latencies) / 2, 0.1), max(latencies) * 2, PAD, WIDTH - PAD, log=True)
    y = _Scale(max(0.0, min(accuracies) - 0.05), min(1.0, max(accuracies) + 0.02), HEIGHT - PAD, PAD / 2)
    parts = [
        _open("accuracy against p95 latency"),
        _axes("p95 latency, ms (log scale)", "accuracy"),
        _ticks(x, y),
    ]
    if budget_ms:
        parts.append(
            f'<line x1="{x(budget_ms):.1f}" y1="{PAD / 2}" x2="{x(budget_ms):.1f}" y2="{HEIGHT - PAD}" '
            f'stroke="#c33" stroke-dasharray="4 3"/><text x="{x(budget_ms) + 3:.1f}" y="{PAD / 2 + 10}" '
            f'fill="#c33">budget {budget_ms:g} ms</text>'
        )
    if floor is not None:
        parts.append(
            f'<line x1="{PAD}" y1="{y(floor):.1f}" x2="{WIDTH - PAD / 2}" y2="{y(floor):.1f}" stroke="#c33" '
            f'stroke-dasharray="4 3"/><text x="{WIDTH - PAD}" y="{y(floor) - 4:.1f}" text-anchor="end" '
            f'fill="#c33">floor {floor:.2f}</text>'
        )
    for i, (name, latency, accuracy) in enumerate(points):
        colour = COLOURS[i % len(COLOURS)]
        parts.append(
            f'<circle cx="{x(latency):.1f}" cy="{y(accuracy):.1f}" r="5" fill="{colour}">'
            f"<title>{escape(name)}: accuracy {accuracy:.3f}, p95 {latency:.1f} ms</title></circle>"
            f'<text x="{x(latency) + 7:.1f}" y="{y(accuracy) + 3:.1f}" fill="{colour}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def curves_svg(series: Sequence[Series], *, y_title: str = "macro-F1") -> str:
    """A line per technique: the metric at each number of training examples (log scale)."""
    drawn = [s for s in series if s.points]
    if not drawn:
        return ""
    xs = [px for s in drawn for px, _ in s.points]
    ys = [py for s in drawn for _, py in s.points]
    x = _Scale(max(min(xs) / 1.5, 1), max(xs) * 1.5, PAD, WIDTH - PAD * 2.2, log=True)
    y = _Scale(max(0.0, min(ys) - 0.05), min(1.0, max(ys) + 0.02), HEIGHT - PAD, PAD / 2)
    parts = [_open("learning curves"), _axes("training examples (log scale)", y_title), _ticks(x, y)]
    for i, line in enumerate(drawn):
        colour = COLOURS[i % len(COLOURS)]
        ordered = sorted(line.points)
        path = " ".join(f"{x(px):.1f},{y(py):.1f}" for px, py in ordered)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>')
        parts += [
            f'<circle cx="{x(px):.1f}" cy="{y(py):.1f}" r="3" fill="{colour}"><title>{escape(line.name)}: '
            f"{py:.3f} with {px:g} examples</title></circle>"
            for px, py in ordered
        ]
        last_x, last_y = ordered[-1]
        parts.append(
            f'<text x="{x(last_x) + 6:.1f}" y="{y(last_y) + 3:.1f}" fill="{colour}">'
            f"{escape(line.name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(bars: Sequence[tuple[str, float, str]], *, title: str) -> str:
    """Horizontal bars on a log scale: (name, value, label shown at the bar's end)."""
    if not bars:
        return ""
    row = 22
    height = PAD + row * len(bars)
    values = [max(v, 1e-3) for _, v, _ in bars]
    x = _Scale(min(values) / 2, max(values) * 2, 90, WIDTH - 120, log=True)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" '
        f'font-family="sans-serif" font-size="10" role="img" aria-label="{escape(title)}">'
        f'<text x="4" y="14">{escape(title)}</text>'
    ]
    for i, (name, value, shown) in enumerate(bars):
        top = 24 + i * row
        end = x(max(value, 1e-3))
        parts.append(
            f'<text x="86" y="{top + 12}" text-anchor="end">{escape(name)}</text>'
            f'<rect x="90" y="{top}" width="{max(end - 90, 1):.1f}" height="{row - 6}" '
            f'fill="{COLOURS[i % len(COLOURS)]}"><title>{escape(name)}: {escape(shown)}</title></rect>'
            f'<text x="{end + 4:.1f}" y="{top + 12}">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def freshness_svg(series: Sequence[Series]) -> str:
    """A step line per technique: the share of questions answered from the current version,
    against the seconds after the change (log scale; the change itself at the left edge)."""
    drawn = [s for s in series if s.points]
    if not drawn:
        return ""
    moments = [px for s in drawn for px, _ in s.points if px > 0] or [1.0]
    low, high = min(moments) / 3, max(moments) * 3
    x = _Scale(low, high, PAD, WIDTH - PAD * 2.2, log=True)
    y = _Scale(0.0, 1.0, HEIGHT - PAD, PAD / 2)
    parts = [
        _open("share of questions answered from the current version after the change"),
        _axes("seconds after the change (log scale)", "share current"),
        _ticks(x, y),
    ]
    for i, line in enumerate(drawn):
        colour = COLOURS[i % len(COLOURS)]
        steps: list[str] = []
        share = 0.0
        for moment, value in sorted(line.points):
            at = x(max(moment, low))
            steps += [f"{at:.1f},{y(share):.1f}", f"{at:.1f},{y(value):.1f}"]
            share = value
        steps.append(f"{x(high):.1f},{y(share):.1f}")
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{" ".join(steps)}">'
            f"<title>{escape(line.name)}: {share:.2f} current at the end</title></polyline>"
            f'<text x="{x(high) + 4:.1f}" y="{y(share) + 3 + 10 * i:.1f}" fill="{colour}">'
            f"{escape(line.name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)

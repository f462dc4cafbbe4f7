"""A study's plots as server-rendered SVG (no script, no network): accuracy against p95 latency,
the learning curves, the update-cost bars, and the freshness of a knowledge study."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape

from assistant.core.charts import (
    COLOURS,
    HEIGHT,
    PAD,
    WIDTH,
    Scale,
    Series,
    axes,
    lines_svg,
    svg_open,
    ticks,
)


def accuracy_latency_svg(
    points: Sequence[tuple[str, float, float]], *, budget_ms: float | None = None, floor: float | None = None
) -> str:
    """One point per technique: (name, p95 ms, accuracy); the latency budget and accuracy floor drawn."""
    if not points:
        return ""
    latencies = [p for _, p, _ in points] + ([budget_ms] if budget_ms else [])
    accuracies = [a for _, _, a in points] + ([floor] if floor is not None else [])
    x = Scale(max(min(latencies) / 2, 0.1), max(latencies) * 2, PAD, WIDTH - PAD, log=True)
    y = Scale(max(0.0, min(accuracies) - 0.05), min(1.0, max(accuracies) + 0.02), HEIGHT - PAD, PAD / 2)
    parts = [
        svg_open("accuracy against p95 latency"),
        axes("p95 latency, ms (log scale)", "accuracy"),
        ticks(x, y),
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
    ys = [py for line in series for _, py in line.points]
    return lines_svg(
        series,
        label="learning curves",
        x_title="training examples (log scale)",
        y_title=y_title,
        y_range=(max(0.0, min(ys) - 0.05), min(1.0, max(ys) + 0.02)) if ys else None,
        log_x=True,
    )


def freshness_svg(series: Sequence[Series]) -> str:
    """A step line per technique: the share of questions answered from the current version,
    against the seconds after the change (log scale; the change itself at the left edge)."""
    drawn = [s for s in series if s.points]
    if not drawn:
        return ""
    moments = [px for s in drawn for px, _ in s.points if px > 0] or [1.0]
    low, high = min(moments) / 3, max(moments) * 3
    x = Scale(low, high, PAD, WIDTH - PAD * 2.2, log=True)
    y = Scale(0.0, 1.0, HEIGHT - PAD, PAD / 2)
    parts = [
        svg_open("share of questions answered from the current version after the change"),
        axes("seconds after the change (log scale)", "share current"),
        ticks(x, y),
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

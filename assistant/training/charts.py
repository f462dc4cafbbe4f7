"""Small SVG charts for the admin: a confusion matrix and a training loss curve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import escape


def confusion_matrix_svg(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    """Rows are true labels, columns predicted; each cell shaded by its share of its row."""
    size = len(labels)
    cell = max(6, min(28, 560 // max(size, 1)))
    margin = 8 + 6 * max((len(label) for label in labels), default=1) if size <= 30 else 40
    width = height = margin + cell * size + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="10" role="img" aria-label="confusion matrix">'
    ]
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        for j, count in enumerate(row):
            share = count / total
            colour = f"rgb({int(255 - 200 * share)},{int(255 - 120 * share)},{int(255 - 40 * share)})"
            title = escape(f"true {labels[i]}, predicted {labels[j]}: {count}")
            stroke = "#333" if i == j else "#eee"
            parts.append(
                f'<rect x="{margin + j * cell}" y="{margin + i * cell}" width="{cell}" height="{cell}" '
                f'fill="{colour}" stroke="{stroke}"><title>{title}</title></rect>'
            )
            if cell >= 20 and count:
                parts.append(
                    f'<text x="{margin + j * cell + cell / 2}" y="{margin + i * cell + cell / 2 + 3}" '
                    f'text-anchor="middle">{count}</text>'
                )
        if size <= 30:
            parts.append(
                f'<text x="{margin - 4}" y="{margin + i * cell + cell / 2 + 3}" text-anchor="end">'
                f"{escape(labels[i])}</text>"
            )
    parts.append(f'<text x="{margin}" y="{margin - 2}">predicted →</text>' if size > 30 else "")
    parts.append("</svg>")
    return "".join(parts)


def loss_curve_svg(history: Sequence[dict[str, Any]], *, width: int = 560, height: int = 200) -> str:
    """Training loss by step (line) with validation accuracy per epoch (dots, right axis)."""
    losses = [(h["step"], h["loss"]) for h in history if "loss" in h]
    accuracies = [(h["step"], h["validation_accuracy"]) for h in history if "validation_accuracy" in h]
    if not losses and not accuracies:
        return ""
    last_step: float = max([s for s, _ in losses + accuracies] + [1])
    top = max([v for _, v in losses] + [1e-9])
    pad = 30

    def x(step: float) -> float:
        return pad + (width - 2 * pad) * step / last_step

    def y(value: float, scale: float) -> float:
        return height - pad - (height - 2 * pad) * value / scale

    line = " ".join(f"{x(s):.1f},{y(v, top):.1f}" for s, v in losses)
    dots = "".join(
        f'<circle cx="{x(s):.1f}" cy="{y(v, 1.0):.1f}" r="3" fill="#c60"><title>validation accuracy '
        f"{v:.3f}</title></circle>"
        for s, v in accuracies
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        f'font-size="10" role="img" aria-label="training loss">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#999"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#999"/>'
        f'<text x="{pad}" y="{pad - 8}">loss (max {top:.3g})</text>'
        f'<text x="{width - pad}" y="{pad - 8}" text-anchor="end" fill="#c60">validation accuracy</text>'
        f'<text x="{width - pad}" y="{height - pad + 14}" text-anchor="end">step {last_step}</text>'
        f'<polyline fill="none" stroke="#36c" stroke-width="1.5" points="{line}"/>{dots}</svg>'
    )

"""The admin's charts of training: the loss curve, the confusion matrix (with the most confused
pairs beside it when there are many labels) and drift audits over time."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.translation import gettext, pgettext

from assistant.core.charts import Series, lines_svg
from assistant.training.models import DriftAudit

# Above this many labels the matrix is too dense to read its off-diagonal cells one by one.
MANY_LABELS = 12
CONFUSED_PAIRS = 10
LABEL_CHARS = 18  # a tick label's length at most (the cell's tooltip names it whole)


def loss_curve_svg(history: Sequence[dict[str, Any]]) -> str:
    """Training loss by step, and validation loss at each epoch's end where the run measured it."""
    series = [
        Series(name, [(entry["step"], entry[key]) for entry in history if key in entry])
        for name, key in ((gettext("train loss"), "loss"), (gettext("validation loss"), "validation_loss"))
    ]
    top = max((loss for line in series for _, loss in line.points), default=0.0)
    return lines_svg(
        series,
        label=gettext("training loss"),
        x_title=gettext("step"),
        y_title=gettext("loss"),
        x_format=_step,
        y_format="{:.2f}",
        y_range=(0.0, top),
    )


def _step(value: float) -> str:
    return f"{value:.0f}" if value >= 100 or value == round(value) else f"{value:.3g}"


@dataclass(frozen=True)
class ConfusedPair:
    true: str
    predicted: str
    count: int
    share: float  # of the true label's examples


def confused_pairs(
    labels: Sequence[str], matrix: Sequence[Sequence[int]], *, limit: int = CONFUSED_PAIRS
) -> list[ConfusedPair]:
    """The off-diagonal cells with any examples, most examples first (then the larger share)."""
    pairs = [
        ConfusedPair(labels[i], labels[j], count, count / sum(row))
        for i, row in enumerate(matrix)
        for j, count in enumerate(row)
        if i != j and count
    ]
    return sorted(pairs, key=lambda p: (-p.count, -p.share, p.true, p.predicted))[:limit]


def confusion_html(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    """The matrix, and beside it, for many labels, a table of the pairs most often confused."""
    figure = confusion_matrix_svg(labels, matrix)
    if len(labels) <= MANY_LABELS:
        return figure
    pairs = confused_pairs(labels, matrix)
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((p.true, p.predicted, p.count, f"{p.share:.1%}") for p in pairs),
    )
    table = (
        format_html(
            '<table class="confused-pairs"><caption>{}</caption>'
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            gettext("The %(count)s most confused pairs") % {"count": len(pairs)},
            gettext("true label"),
            gettext("predicted"),
            gettext("examples"),
            gettext("share of the true label's"),
            rows,
        )
        if pairs
        else format_html("<p>{}</p>", gettext("No examples were confused."))
    )
    return (
        '<div style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start">'
        f"<div>{figure}</div>{table}</div>"
    )


def confusion_matrix_svg(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    """Rows are true labels (named down the side), columns predicted (named across the top); each
    cell shaded by its share of its row, the diagonal outlined. With many labels only every few
    are named; each cell's tooltip names both."""
    size = len(labels)
    cell = max(6, min(28, 560 // max(size, 1)))
    every = math.ceil(11 / cell)
    shown = [_short(label) for label in labels]
    names = 6 * max((len(name) for name in shown), default=1) + 6
    left = top = 22 + names
    width, height = left + cell * size + 8, top + cell * size + 8
    middle_x, middle_y = left + cell * size / 2, top + cell * size / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto" '
        f'font-family="sans-serif" font-size="10" role="img" '
        f'aria-label="{escape(gettext("confusion matrix"))}">'
        f'<text x="{middle_x:.1f}" y="12" text-anchor="middle" font-weight="bold">'
        f"{escape(gettext('predicted label'))}</text>"
        f'<text x="12" y="{middle_y:.1f}" text-anchor="middle" font-weight="bold" '
        f'transform="rotate(-90 12 {middle_y:.1f})">{escape(gettext("true label"))}</text>'
    ]
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        for j, count in enumerate(row):
            share = count / total
            colour = f"rgb({int(255 - 200 * share)},{int(255 - 120 * share)},{int(255 - 40 * share)})"
            title = escape(
                gettext("true %(true)s, predicted %(predicted)s: %(count)s (%(share)s of true)")
                % {"true": labels[i], "predicted": labels[j], "count": count, "share": f"{share:.0%}"}
            )
            stroke = "#333" if i == j else "#eee"
            parts.append(
                f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell}" height="{cell}" '
                f'fill="{colour}" stroke="{stroke}"><title>{title}</title></rect>'
            )
            if cell >= 20 and count:
                parts.append(
                    f'<text x="{left + j * cell + cell / 2}" y="{top + i * cell + cell / 2 + 3}" '
                    f'text-anchor="middle" fill="{"#fff" if share > 0.6 else "#000"}">{count}</text>'
                )
    for i, name in enumerate(shown):
        if i % every:
            continue
        centre = i * cell + cell / 2
        parts.append(
            f'<text x="{left - 4}" y="{top + centre + 3:.1f}" text-anchor="end">{escape(name)}</text>'
            f'<text x="{left + centre + 3:.1f}" y="{top - 4}" '
            f'transform="rotate(-90 {left + centre + 3:.1f} {top - 4})">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def drift_svg(audits: Sequence[DriftAudit], *, by_task: bool) -> str:
    """Audits' PSI over time with the alert threshold: one task's label and embedding PSI, or
    (`by_task`) each task's larger PSI. Audits with too little data have no PSI and no point."""
    judged = sorted((a for a in audits if a.label_psi is not None), key=lambda a: a.created_at)
    if not judged:
        return ""
    if by_task:
        tasks = sorted({a.model_version.task for a in judged})
        series = [
            Series(task, [(_time(a), _larger_psi(a)) for a in judged if a.model_version.task == task])
            for task in tasks
        ]
    else:
        series = [
            Series(gettext("label PSI"), [(_time(a), a.label_psi or 0.0) for a in judged]),
            Series(gettext("embedding PSI"), [(_time(a), a.embedding_psi or 0.0) for a in judged]),
        ]
    margin = timedelta(minutes=30) if judged[0].created_at == judged[-1].created_at else timedelta(0)
    limit = judged[-1].threshold
    threshold = Series(
        gettext("alert threshold"),
        [
            ((judged[0].created_at - margin).timestamp(), limit),
            ((judged[-1].created_at + margin).timestamp(), limit),
        ],
    )
    top = max(y for line in [*series, threshold] for _, y in line.points)
    days = judged[-1].created_at - judged[0].created_at > timedelta(days=2)
    day = pgettext("a day on a chart's axis", "j M")
    return lines_svg(
        [*series, threshold],
        label=gettext("drift audits"),
        x_title=gettext("audited at"),
        y_title=gettext("PSI (population stability index)"),
        x_format=lambda t: date_format(_local(t), day if days else f"{day} H:i"),
        y_format="{:.2f}",
        y_range=(0.0, top * 1.1),
    )


def _time(audit: DriftAudit) -> float:
    return audit.created_at.timestamp()


def _larger_psi(audit: DriftAudit) -> float:
    return max(audit.label_psi or 0.0, audit.embedding_psi or 0.0)


def _local(timestamp: float) -> datetime:
    return timezone.localtime(datetime.fromtimestamp(timestamp, UTC))

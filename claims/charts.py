"""The claims models' agreement with adjusters over time, as server-rendered SVG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from assistant.core.charts import Series, lines_svg
from claims.selectors import DailyAgreement

# A line needs two points: a model decided on one day only has no trend to show yet.
MIN_DAYS = 2


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")


def _midnight(agreement: DailyAgreement) -> float:
    return datetime(agreement.day.year, agreement.day.month, agreement.day.day, tzinfo=UTC).timestamp()


def model_name(task: str, version: int) -> str:
    return f"{task.removeprefix('claims-')} v{version}"


def accuracy_over_time_svg(days: Mapping[tuple[str, int], Sequence[DailyAgreement]]) -> str:
    """A line per model version: the share of each day's decisions that agreed with its answer;
    "" until some version has decisions on two days or more."""
    if not any(len(points) >= MIN_DAYS for points in days.values()):
        return ""
    series = [
        Series(model_name(task, version), [(_midnight(p), p.accuracy) for p in points])
        for (task, version), points in days.items()
    ]
    return lines_svg(
        series,
        label="agreement of each model with the adjusters' decisions, by day",
        x_title="day decided (UTC)",
        y_title="agreement with adjusters",
        x_format=_day,
        y_range=(0.0, 1.0),
    )

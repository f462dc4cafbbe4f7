"""The recommendation: which technique meets the person's constraints at the lowest running and
update cost, why (a sentence per factor), the runner-up and what would change the choice, and
where the measurements contradict the rules of thumb the sources give. Pure: it reads a study's
figures and the questionnaire's answers, so it is recomputed at once when an answer changes."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.core.errors import ApplicationError
from assistant.training.config import FINE_TUNING

# How many updates (changed knowledge or new labels) a month each answer means.
FREQUENCIES = {"rarely": 0.25, "monthly": 1.0, "weekly": 4.3, "daily": 30.0}
COMPUTE = ("none", "cpu", "gpu")
TOLERANCE = ("low", "medium", "high")
# The largest loss of nDCG@10 on the reference questions each tolerance accepts from fine-tuning.
FORGETTING_ACCEPTED = {"low": 0.02, "medium": 0.10, "high": 1.0}
# They can show what an answer rests on: the passages found (rag), the labelled examples (knn, icl).
CITING = ("rag", "knn", "icl")
DAYS_A_MONTH = 30
FIT_MONTHS = 12  # a fit's cost is spread over a year of serving


class AnswerError(ApplicationError):
    pass


@dataclass(frozen=True)
class Answers:
    """The decision factors of the sources."""

    change: str = "monthly"
    citations: bool = False
    latency_budget_ms: float = 200.0
    min_accuracy: float = 0.8
    examples_per_label: int = 0  # 0: all the task has
    compute: str = "cpu"
    new_labels: str = "rarely"
    drift_tolerance: str = "medium"
    requests_per_day: int = 10_000

    @classmethod
    def build(cls, given: Mapping[str, Any]) -> Answers:
        """The defaults overridden by `given`; every bad answer named by its field."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        merged = {k: v for k, v in given.items() if v is not None and v != ""}
        unknown = sorted(set(merged) - set(names))
        if unknown:
            raise AnswerError(f"unknown questions: {', '.join(unknown)}", field=unknown[0])
        values: dict[str, Any] = {}
        for name, value in merged.items():
            kind: type[Any] = type(names[name].default)
            if kind is bool and isinstance(value, str):
                value = value.lower() in ("1", "true", "yes", "on")
            try:
                values[name] = kind(value)
            except (TypeError, ValueError):
                raise AnswerError(f"{name} must be a {kind.__name__}, not {value!r}", field=name) from None
        answers = cls(**values)
        answers._check()
        return answers

    def _check(self) -> None:
        for name, allowed in (
            ("change", FREQUENCIES), ("new_labels", FREQUENCIES), ("compute", COMPUTE),
            ("drift_tolerance", TOLERANCE),
        ):  # fmt: skip
            if getattr(self, name) not in allowed:
                raise AnswerError(f"{name} must be one of {', '.join(allowed)}", field=name)
        if self.latency_budget_ms <= 0:
            raise AnswerError("latency_budget_ms must be above 0", field="latency_budget_ms")
        if not 0 <= self.min_accuracy <= 1:
            raise AnswerError("min_accuracy must be from 0 to 1", field="min_accuracy")
        for name in ("examples_per_label", "requests_per_day"):
            if getattr(self, name) < 0:
                raise AnswerError(f"{name} must not be negative", field=name)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def updates_a_month(self) -> float:
        return max(FREQUENCIES[self.change], FREQUENCIES[self.new_labels])


@dataclass(frozen=True)
class Row:
    """One technique's figures, as the recommendation reads them."""

    technique: str
    accuracy: float  # on the test split where the study has scored it, else on validation
    macro_f1: float
    p50_ms: float
    p95_ms: float
    fit_seconds: float
    update_seconds: float
    update_how: str
    curve: dict[int, float] = field(default_factory=dict)  # examples per label -> accuracy; 0: all
    forgetting_change: float | None = None
    version: int | None = None

    @property
    def fine_tuned(self) -> bool:
        return self.technique in FINE_TUNING

    def accuracy_with(self, per_label: int) -> tuple[float, int]:
        """Accuracy with `per_label` examples a label (0: all): the curve's largest point at or
        below it (its smallest where none is), and that point."""
        points = sorted(size for size in self.curve if size)
        if not per_label or not points or (per_label > points[-1] and 0 in self.curve):
            return self.accuracy, 0
        usable = [size for size in points if size <= per_label] or points[:1]
        return self.curve[usable[-1]], usable[-1]

    def monthly_seconds(self, answers: Answers) -> float:
        """Compute-seconds a month: serving one request at a time, the updates, and a share of the fit."""
        serving = answers.requests_per_day * DAYS_A_MONTH * self.p50_ms / 1000
        return serving + answers.updates_a_month * self.update_seconds + self.fit_seconds / FIT_MONTHS


@dataclass(frozen=True)
class Check:
    factor: str
    passed: bool
    sentence: str
    # For a failed check: the answer that would let this technique through.
    would_pass: str = ""


@dataclass(frozen=True)
class Recommendation:
    technique: str | None
    version: int | None
    reasons: list[Check]
    runner_up: str | None
    change_the_choice: list[str]
    ranking: list[dict[str, Any]]
    rules_of_thumb: list[dict[str, str]]
    summary: str

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def checks(row: Row, answers: Answers) -> list[Check]:
    """Each constraint of the answers on one technique, passed or not, in a sentence."""
    accuracy, point = row.accuracy_with(answers.examples_per_label)
    at = f"with {point} examples a label" if point else "with all the data"
    found: list[Check] = [
        Check(
            "accuracy",
            accuracy >= answers.min_accuracy,
            f"accuracy {accuracy:.3f} {at}, against a floor of {answers.min_accuracy:.3f}",
            f"an accuracy floor of {accuracy:.3f} or less",
        ),
        Check(
            "latency",
            row.p95_ms <= answers.latency_budget_ms,
            f"p95 latency {row.p95_ms:.1f} ms, against a budget of {answers.latency_budget_ms:.0f} ms",
            f"a latency budget of {row.p95_ms:.0f} ms or more",
        ),
    ]
    if answers.citations:
        cites = row.technique in CITING
        found.append(
            Check(
                "citations",
                cites,
                "shows what each answer rests on (the passages or labelled examples it found)"
                if cites
                else "cannot show what a prediction rests on",
                "no need for citations",
            )
        )
    trains = row.fine_tuned
    allowed = answers.compute == "gpu" or (answers.compute == "cpu" and row.technique != "qlora")
    found.append(
        Check(
            "compute",
            allowed or not trains,
            "trains its encoder ("
            + ("allowed" if allowed else f"compute for training: {answers.compute}")
            + ")"
            if trains
            else "trains no encoder",
            "compute for training (a GPU for qlora)",
        )
    )
    if trains:
        accepted = FORGETTING_ACCEPTED[answers.drift_tolerance]
        change = row.forgetting_change
        found.append(
            Check(
                "forgetting",
                change is not None and -change <= accepted,
                "forgetting not measured"
                if change is None
                else f"nDCG@10 on the reference questions changed by {change:+.3f} "
                f"(a {answers.drift_tolerance} tolerance accepts a loss of {accepted:.2f})",
                "a higher tolerance for drift and forgetting",
            )
        )
    monthly = row.monthly_seconds(answers)
    found.append(
        Check(
            "cost",
            True,
            f"about {monthly:,.0f} compute-seconds a month ({answers.requests_per_day:,} requests a day; "
            f"{answers.updates_a_month:g} updates a month by {row.update_how}, "
            f"{row.update_seconds:.1f} s each)",
        )
    )
    return found


def recommend(rows: Sequence[Row], answers: Answers) -> Recommendation:
    if not rows:
        return Recommendation(None, None, [], None, [], [], [], "no technique has finished")
    assessed = [(row, checks(row, answers)) for row in rows]

    def rank_key(item: tuple[Row, list[Check]]) -> tuple[int, float, float, float]:
        row, found = item
        failed = sum(not c.passed for c in found)
        return failed, _shortfall(row, found, answers), row.monthly_seconds(answers), -row.accuracy

    ordered = sorted(assessed, key=rank_key)
    ranking = [
        {
            "technique": row.technique,
            "meets_all": all(c.passed for c in found),
            "failed": [c.factor for c in found if not c.passed],
            "monthly_seconds": round(row.monthly_seconds(answers), 1),
            "accuracy": row.accuracy,
        }
        for row, found in ordered
    ]
    (best, best_checks), rest = ordered[0], ordered[1:]
    meets = all(c.passed for c in best_checks)
    runner_up = rest[0] if rest else None
    summary = (
        "it meets every constraint at the lowest running and update cost"
        if meets
        else f"no technique meets every constraint; {best.technique} fails the fewest "
        f"({', '.join(c.factor for c in best_checks if not c.passed)}) and misses them by the least"
    )
    return Recommendation(
        technique=best.technique,
        version=best.version,
        reasons=best_checks,
        runner_up=runner_up[0].technique if runner_up else None,
        change_the_choice=_what_changes(best, runner_up, answers) if runner_up else [],
        ranking=ranking,
        rules_of_thumb=rules_of_thumb(rows),
        summary=summary,
    )


def _shortfall(row: Row, found: list[Check], answers: Answers) -> float:
    """How far a technique misses its failed constraints: the accuracy floor and the latency budget
    by the share of each it misses by, any other (compute, citations, forgetting) wholly. Among
    techniques that fail as many constraints, the nearer one is the better choice."""
    accuracy, _ = row.accuracy_with(answers.examples_per_label)
    gaps = {
        "accuracy": (answers.min_accuracy - accuracy) / max(answers.min_accuracy, 1e-9),
        "latency": (row.p95_ms - answers.latency_budget_ms) / answers.latency_budget_ms,
    }
    return sum(min(gaps.get(check.factor, 1.0), 1.0) for check in found if not check.passed)


def _what_changes(best: Row, runner_up: tuple[Row, list[Check]], answers: Answers) -> list[str]:
    row, found = runner_up
    failed = [c for c in found if not c.passed]
    if failed:
        return [f"{row.technique} would be chosen with {' and '.join(c.would_pass for c in failed)}"]
    said = []
    if row.accuracy > best.accuracy:
        said.append(
            f"an accuracy floor above {best.accuracy:.3f} would choose {row.technique} "
            f"(accuracy {row.accuracy:.3f})"
        )

    def fixed(r: Row) -> float:  # the monthly cost without its updates
        return r.monthly_seconds(answers) - answers.updates_a_month * r.update_seconds

    # Where the two costs cross as the updates a month change.
    slope = best.update_seconds - row.update_seconds
    if slope:
        crossing = (fixed(row) - fixed(best)) / slope
        if crossing > 0:
            direction = "more" if slope > 0 else "fewer"
            said.append(
                f"with {direction} than {crossing:.1f} updates a month {row.technique} would cost less"
            )
    return said or [f"{row.technique} costs more at any rate of updates"]


def rules_of_thumb(rows: Sequence[Row]) -> list[dict[str, str]]:
    """Each claim of the sources the figures can test: agrees, contradicts, or not measured."""
    by = {row.technique: row for row in rows}
    tuned = [row for row in rows if row.fine_tuned]
    frozen = [row for row in rows if not row.fine_tuned]
    retrieval = by.get("rag") or by.get("knn")
    said = []

    def claim(text: str, measured: str, agrees: bool | None) -> None:
        verdict = "not measured" if agrees is None else "agrees" if agrees else "contradicts"
        said.append({"claim": text, "measured": measured, "verdict": verdict})

    if tuned and retrieval:
        fine = min(tuned, key=lambda r: r.p95_ms)
        claim(
            "a fine-tuned model answers in 50-200 ms, retrieval (RAG) in 200-800 ms",
            f"{fine.technique} p95 {fine.p95_ms:.1f} ms; {retrieval.technique} p95 {retrieval.p95_ms:.1f} ms",
            fine.p95_ms <= 200 and 200 <= retrieval.p95_ms <= 800,
        )
    else:
        claim("a fine-tuned model answers in 50-200 ms, retrieval (RAG) in 200-800 ms", "", None)
    if tuned and frozen:
        best_tuned = max(tuned, key=lambda r: r.accuracy)
        best_frozen = max(frozen, key=lambda r: r.accuracy)
        claim(
            "fine-tuning is the more accurate on a narrow, stable task with its data",
            f"{best_tuned.technique} {best_tuned.accuracy:.3f}; best other: "
            f"{best_frozen.technique} {best_frozen.accuracy:.3f}",
            best_tuned.accuracy > best_frozen.accuracy,
        )
    sizes = sorted(size for size in retrieval.curve if size) if retrieval else []
    if retrieval and sizes and tuned and all(sizes[0] in r.curve for r in tuned):
        few = sizes[0]
        best_tuned = max(tuned, key=lambda r: r.curve[few])
        claim(
            "retrieval is the better choice when labelled data is scarce",
            f"with {few} examples a label: {retrieval.technique} {retrieval.curve[few]:.3f}, "
            f"{best_tuned.technique} {best_tuned.curve[few]:.3f}",
            retrieval.curve[few] >= best_tuned.curve[few],
        )
    if retrieval and tuned:
        fine = min(tuned, key=lambda r: r.update_seconds)
        claim(
            "retrieval takes new knowledge without retraining; fine-tuning needs a new run",
            f"new knowledge served after {retrieval.update_seconds:.1f} s by {retrieval.technique} "
            f"({retrieval.update_how}), {fine.update_seconds:.1f} s by {fine.technique}",
            retrieval.update_seconds < fine.update_seconds,
        )
    if "icl" in by and tuned:
        best_tuned = max(tuned, key=lambda r: r.accuracy)
        claim(
            "a small model should be fine-tuned rather than prompted",
            f"icl {by['icl'].accuracy:.3f}; {best_tuned.technique} {best_tuned.accuracy:.3f}",
            best_tuned.accuracy > by["icl"].accuracy,
        )
    measured = [r for r in tuned if r.forgetting_change is not None]
    if measured:
        worst = min(measured, key=lambda r: r.forgetting_change or 0.0)
        claim(
            "fine-tuning costs the model some of its general ability (forgetting)",
            f"{worst.technique}: nDCG@10 on the reference questions {worst.forgetting_change:+.3f}",
            (worst.forgetting_change or 0.0) < 0,
        )
    return said

"""A study as people and programs read it: a document (JSON), its plots, Markdown and PDF."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from assistant.core.charts import Series, bars_svg
from lab.charts import accuracy_latency_svg, curves_svg, freshness_svg
from lab.models import Status, Study
from lab.recommend import Answers, Recommendation
from lab.services import recommendation, update_how


def document(study: Study) -> dict[str, Any]:
    """Everything the study measured, with the recommended technique under `recommendation`."""
    advice = recommendation(study).as_dict() if study.status == Status.SUCCEEDED else None
    tested = study.results.get("test", {})
    return {
        "study": study.pk,
        "task": study.task,
        "status": study.status,
        "created_at": study.created_at.isoformat(),
        "finished_at": study.finished_at.isoformat() if study.finished_at else None,
        "seed": study.seed,
        "test_share": study.test_share,
        "test_examples": study.results.get("test_examples"),
        "held_out_label": study.held_out_label,
        "curve_sizes": study.curve_sizes,
        **({"kind": study.kind, "change": _change(study)} if _knows(study) else {}),
        "answers": study.answers,
        "techniques": {
            arm.technique: {
                "status": arm.status,
                "stage": arm.stage,
                "error": arm.error,
                **arm.results,
                **({"test": tested[arm.technique]} if arm.technique in tested else {}),
            }
            for arm in study.arms.all()
        },
        "recommendation": advice["technique"] if advice else None,
        "why": advice,
    }


def _knows(study: Study) -> bool:
    return study.kind == Study.Kind.KNOWLEDGE


def _change(study: Study) -> dict[str, Any]:
    plan = study.plan
    return {
        "collection": study.task,
        "questions_from": plan["source"],
        "entries": plan["entries"],
        "questions": {
            split: sum(q["split"] == split for q in plan["questions"]) for split in ("train", "test")
        },
        "revised": plan["revised"],
        "added": plan["added"],
    }


def figures(study: Study) -> dict[str, str]:
    """The study's plots as SVG: accuracy against p95 latency, learning curves, update cost (a
    knowledge study: top-1 against p95 latency, freshness, seconds until current)."""
    if _knows(study):
        return _knowledge_figures(study)
    answers = Answers.build(study.answers)
    tested = study.results.get("test", {})
    measured = [arm for arm in study.arms.all() if arm.results]
    points = [
        (
            arm.technique,
            arm.results["speed"]["p95_ms"],
            tested.get(arm.technique, arm.results["validation"])["accuracy"],
        )
        for arm in measured
    ]
    curves = [
        Series(arm.technique, [(p["train"], p["macro_f1"]) for p in arm.results["curve"] if p["train"]])
        for arm in measured
    ]
    updates = [
        (
            arm.technique,
            arm.results["update"]["seconds"],
            f"{arm.results['update']['seconds']:.2f} s by {update_how(arm.technique)}, F1 "
            f"{arm.results['update']['f1_before']:.2f} → {arm.results['update']['f1_after']:.2f}",
        )
        for arm in measured
    ]
    return {
        "accuracy_latency": accuracy_latency_svg(
            points, budget_ms=answers.latency_budget_ms, floor=answers.min_accuracy
        ),
        "curves": curves_svg(curves),
        "updates": bars_svg(
            updates, title=f"seconds until a new label ({study.held_out_label}) is served (log scale)"
        ),
    }


def _knowledge_figures(study: Study) -> dict[str, str]:
    answers = Answers.build(study.answers)
    measured = [arm for arm in study.arms.all() if arm.results]
    return {
        "accuracy_latency": accuracy_latency_svg(
            [(a.technique, a.results["speed"]["p95_ms"], a.results["test"]["top1"]) for a in measured],
            budget_ms=answers.latency_budget_ms,
            floor=answers.min_accuracy,
        ),
        "freshness": freshness_svg(
            [Series(a.technique, [(t, v) for t, v in a.results["freshness"]["curve"]]) for a in measured]
        ),
        "updates": bars_svg(
            [
                (
                    a.technique,
                    a.results["freshness"]["seconds"],
                    f"{a.results['freshness']['seconds']:.2f} s by {a.results['freshness']['how']}",
                )
                for a in measured
            ],
            title="seconds until the revised and added entries are served (log scale)",
        ),
    }


# (title, key in the results, key in a row of the table)
KNOWLEDGE_COLUMNS = (
    ("top-1", "top1", "top1"),
    ("recall@5", "recall@5", "recall_at_5"),
    ("nDCG@10", "ndcg@10", "ndcg_at_10"),
    ("MRR@10", "mrr@10", "mrr_at_10"),
)


def knowledge_table(study: Study) -> list[dict[str, Any]]:
    """One row a technique of a knowledge study: quality on the test questions, speed, cost, freshness."""
    found = []
    for arm in study.arms.all():
        result = arm.results
        if not result:
            found.append({"technique": arm.technique, "status": arm.status, "error": arm.error})
            continue
        found.append(
            {
                "technique": arm.technique,
                "status": arm.status,
                **{row: result["test"][key] for _, key, row in KNOWLEDGE_COLUMNS},
                "p50_ms": result["speed"]["p50_ms"],
                "p95_ms": result["speed"]["p95_ms"],
                **result["cost"],
                "freshness": result["freshness"],
                "forgetting": result.get("forgetting"),
            }
        )
    return found


COLUMNS = (
    ("accuracy", "accuracy"),
    ("macro-F1", "macro_f1"),
    ("worst F1", "worst_f1"),
    ("ECE", "ece"),
    ("coverage", "coverage"),
)


def table(study: Study) -> list[dict[str, Any]]:
    """One row a technique: quality on the test split (validation until scored), speed and cost."""
    if _knows(study):
        return knowledge_table(study)
    tested = study.results.get("test", {})
    found = []
    for arm in study.arms.all():
        result = arm.results
        if not result:
            found.append({"technique": arm.technique, "status": arm.status, "error": arm.error})
            continue
        scored = tested.get(arm.technique, result["validation"])
        found.append(
            {
                "technique": arm.technique,
                "status": arm.status,
                "split": "test" if arm.technique in tested else "validation",
                **{key: scored[key] for _, key in COLUMNS},
                "validation_macro_f1": result["validation"]["macro_f1"],
                "p50_ms": result["speed"]["p50_ms"],
                "p95_ms": result["speed"]["p95_ms"],
                "texts_per_s": result["speed"]["texts_per_s"],
                "fit_seconds": result["cost"]["fit_seconds"],
                "fit_device": result["cost"]["fit_device"],
                "artefact_bytes": result["cost"]["artefact_bytes"],
                "peak_memory_bytes": result["cost"]["peak_memory_bytes"],
                "prompt_tokens_mean": result["cost"].get("prompt_tokens_mean"),
                "update": result["update"],
                "forgetting": result.get("forgetting"),
                "curve": result["curve"],
            }
        )
    return found


def _mb(value: int | None) -> str:
    return "" if value is None else f"{value / 1e6:.1f}"


def _table_lines(
    header: list[str], rows: list[dict[str, Any]], cells: Callable[[dict[str, Any]], list[str]]
) -> list[str]:
    """A Markdown table of the measured rows; an arm that did not finish says why."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        if "p95_ms" in row:
            lines.append("| " + " | ".join([row["technique"], *cells(row)]) + " |")
        else:
            lines.append(f"| {row['technique']} | {row['status']}: {row.get('error', '')} |")
    return lines


def _advice_lines(advice: Recommendation | None) -> list[str]:
    if advice is None:
        return []
    lines = [f"**Recommendation: {advice.technique}** — {advice.summary}.", ""]
    lines += [f"- {check.factor}: {check.sentence}" for check in advice.reasons]
    if advice.runner_up:
        lines += ["", f"Runner-up: {advice.runner_up}. " + "; ".join(advice.change_the_choice) + "."]
    return [*lines, ""]


def _closing_lines(rows: list[dict[str, Any]], advice: Recommendation | None) -> list[str]:
    """Forgetting and the rules of thumb, after the tables."""
    lines: list[str] = []
    forgot = [row for row in rows if row.get("forgetting")]
    if forgot:
        lines += ["", "Forgetting (retrieval nDCG@10 on the reference questions):", ""]
        for row in forgot:
            f = row["forgetting"]
            lines.append(
                f"- {row['technique']}: {f['tuned_ndcg10']:.3f} against the base encoder's "
                f"{f['base_ndcg10']:.3f} ({f['change']:+.3f}) on {f['questions']} {f['reference']}"
            )
    if advice and advice.rules_of_thumb:
        lines += ["", "Rules of thumb:", ""]
        lines += [f"- {r['claim']}: **{r['verdict']}** ({r['measured']})" for r in advice.rules_of_thumb]
    return lines


def _knowledge_markdown(study: Study, advice: Recommendation | None) -> list[str]:
    change = _change(study)
    lines = [
        f"# Knowledge study {study.pk}: {study.task}",
        "",
        f"Status {study.status}; {len(study.techniques)} techniques; {change['entries']} entries; questions "
        f"from {change['questions_from']}: {change['questions']['train']} to fit on, "
        f"{change['questions']['test']} to test. The change revises {len(change['revised'])} entries and "
        f"adds {len(change['added'])}. Exported {timezone.now():%Y-%m-%d %H:%M} UTC.",
        "",
        *_advice_lines(advice),
    ]
    header = [
        "technique", *(name for name, _, _ in KNOWLEDGE_COLUMNS), "p50 ms", "p95 ms", "fit s", "artefact MB",
        "peak MB", "until current s", "current before → after",
    ]  # fmt: skip

    def cells(row: dict[str, Any]) -> list[str]:
        fresh = row["freshness"]
        return [
            *(f"{row[key]:.3f}" for _, _, key in KNOWLEDGE_COLUMNS), f"{row['p50_ms']:.1f}",
            f"{row['p95_ms']:.1f}", f"{row['fit_seconds']:.1f}", _mb(row["artefact_bytes"]),
            _mb(row["peak_memory_bytes"]), f"{fresh['seconds']:.2f} ({fresh['how']})",
            f"{fresh['before']['current']:.2f} → {fresh['after']:.2f}",
        ]  # fmt: skip

    rows = knowledge_table(study)
    lines += _table_lines(header, rows, cells)
    measured = [row for row in rows if "freshness" in row]
    if measured:
        fresh = measured[0]["freshness"]
        lines += [
            "",
            f"Freshness: {fresh['questions']} test questions ask about the {fresh['revised']} revised and "
            f"{fresh['added']} added entries; before the change reaches a technique it answers "
            "them from old versions (stale) or not at all:",
            "",
        ]
        lines += [
            f"- {row['technique']}: {row['freshness']['before']['stale']:.2f} stale before; "
            f"{row['freshness']['after']:.2f} current {row['freshness']['seconds']:.2f} s after the change "
            f"({row['freshness']['how']})"
            for row in measured
        ]
    return lines + _closing_lines(rows, advice)


def markdown(study: Study) -> str:
    advice = recommendation(study) if study.status == Status.SUCCEEDED else None
    if _knows(study):
        return "\n".join(_knowledge_markdown(study, advice)) + "\n"
    lines = [
        f"# Study {study.pk}: {study.task}",
        "",
        f"Status {study.status}; {len(study.techniques)} techniques; test split: "
        f"{study.results.get('test_examples', '?')} examples reserved ({study.test_share:.0%} of training), "
        f"scored once. Exported {timezone.now():%Y-%m-%d %H:%M} UTC.",
        "",
        *_advice_lines(advice),
    ]
    header = [
        "technique", *(name for name, _ in COLUMNS), "p50 ms", "p95 ms", "texts/s", "fit s", "artefact MB",
        "peak MB", "update s", "new-label F1",
    ]  # fmt: skip

    def cells(row: dict[str, Any]) -> list[str]:
        update = row["update"]
        return [
            *(f"{row[key]:.3f}" for _, key in COLUMNS), f"{row['p50_ms']:.1f}",
            f"{row['p95_ms']:.1f}", f"{row['texts_per_s']:.0f}", f"{row['fit_seconds'] or 0:.1f}",
            _mb(row["artefact_bytes"]), _mb(row["peak_memory_bytes"]),
            f"{update['seconds']:.2f} ({update['how']})",
            f"{update['f1_before']:.2f} → {update['f1_after']:.2f}",
        ]  # fmt: skip

    rows = table(study)
    lines += _table_lines(header, rows, cells)
    curve_rows = [row for row in rows if "curve" in row]
    if curve_rows:
        sizes = [*study.curve_sizes, 0]
        lines += ["", "Learning curve (validation macro-F1; examples a label):", ""]
        lines.append("| technique | " + " | ".join(str(s) if s else "all" for s in sizes) + " |")
        lines.append("|" + "---|" * (len(sizes) + 1))
        for row in curve_rows:
            by = {p["per_label"]: p["macro_f1"] for p in row["curve"]}
            lines.append(
                f"| {row['technique']} | "
                + " | ".join(f"{by[s]:.3f}" if s in by else "" for s in sizes)
                + " |"
            )
    return "\n".join(lines + _closing_lines(rows, advice)) + "\n"


def _latin(text: str) -> str:
    """What the PDF's core fonts can draw: Latin-1, arrows and dashes spelt out."""
    return text.replace("→", "->").replace("—", "-").encode("latin-1", "replace").decode("latin-1")


def pdf(study: Study) -> bytes:
    """The Markdown's content with the plots, on A4."""
    from fpdf import FPDF

    document_pdf = FPDF(format="A4")
    document_pdf.set_title(f"Study {study.pk}: {study.task}")
    document_pdf.set_author("finassist")
    document_pdf.add_page()
    document_pdf.set_font("helvetica", "", 8)
    for line in markdown(study).splitlines():
        text = _latin(line.replace("**", ""))
        if line.startswith("# "):
            document_pdf.set_font("helvetica", "B", 14)
            document_pdf.multi_cell(0, 7, text[2:], new_x="LMARGIN", new_y="NEXT")
            document_pdf.set_font("helvetica", "", 8)
        elif text.startswith("|---") or text.startswith("|-"):
            continue
        else:
            document_pdf.multi_cell(0, 4, text, new_x="LMARGIN", new_y="NEXT")
    for svg in figures(study).values():
        if not svg:
            continue
        if document_pdf.get_y() > 180:
            document_pdf.add_page()
        document_pdf.image(io.BytesIO(_latin(svg).encode()), w=180)
    return bytes(document_pdf.output())

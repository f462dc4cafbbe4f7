"""The admin's training charts: axes, titles and tick labels, and the most confused pairs."""

import re
from datetime import UTC, datetime, timedelta

from assistant.training.charts import (
    MANY_LABELS,
    confused_pairs,
    confusion_html,
    confusion_matrix_svg,
    drift_svg,
    loss_curve_svg,
)
from assistant.training.models import DriftAudit, ModelVersion

HISTORY = [
    {"step": 0, "epoch": 0, "validation_accuracy": 0.41, "validation_loss": 1.31},
    {"step": 10, "epoch": 1, "loss": 1.2},
    {"step": 20, "epoch": 1, "loss": 0.8},
    {"step": 20, "epoch": 1, "validation_accuracy": 0.82, "validation_loss": 0.74},
    {"step": 30, "epoch": 2, "loss": 0.5},
    {"step": 40, "epoch": 2, "loss": 0.4},
    {"step": 40, "epoch": 2, "validation_accuracy": 0.9, "validation_loss": 0.52},
]


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_the_loss_curve_has_titled_axes_tick_labels_and_a_line_each_for_train_and_validation_loss():
    svg = loss_curve_svg(HISTORY)
    texts = _texts(svg)

    assert 'aria-label="training loss"' in svg
    assert {"step", "loss", "train loss", "validation loss"} <= set(texts)
    assert {"0", "10", "20", "30", "40"} <= set(texts)  # steps along the bottom
    assert {"0.00", "1.31"} <= set(texts)  # loss up the side, from 0 to the highest
    assert svg.count("<polyline") == 2


def test_the_loss_curve_of_a_run_without_validation_loss_has_one_line_and_of_none_nothing():
    assert (
        loss_curve_svg([{"step": 3, "epoch": 1, "loss": 0.9}, {"step": 6, "epoch": 1, "loss": 0.7}]).count(
            "<polyline"
        )
        == 1
    )
    assert loss_curve_svg([]) == ""


def test_the_confusion_matrix_names_its_axes_and_each_label_on_both():
    svg = confusion_matrix_svg(["card", "loan", "fraud"], [[5, 1, 0], [2, 7, 0], [0, 0, 9]])
    texts = _texts(svg)

    assert "true label" in texts
    assert "predicted label" in texts
    assert [texts.count(label) for label in ("card", "loan", "fraud")] == [2, 2, 2]
    assert "true loan, predicted card: 2 (22% of true)" in svg


def test_with_few_labels_there_is_no_table_of_confused_pairs():
    html = confusion_html(["a", "b"], [[3, 1], [0, 4]])

    assert "confused-pairs" not in html
    assert 'aria-label="confusion matrix"' in html


def _many() -> tuple[list[str], list[list[int]]]:
    labels = [f"label-{i:02d}" for i in range(MANY_LABELS + 8)]
    matrix = [[20 if i == j else 0 for j in range(len(labels))] for i in range(len(labels))]
    matrix[3][5] = 9
    matrix[7][2] = 9
    matrix[7][1] = 10
    matrix[0][4] = 2
    for i in range(len(labels) - 1):
        matrix[i][i + 1] += 1
    return labels, matrix


def test_the_most_confused_pairs_come_most_examples_first_then_the_larger_share():
    labels, matrix = _many()
    matrix[7][7] = 30  # label-07's 9 predicted label-02 are then a smaller share than label-03's 9

    pairs = confused_pairs(labels, matrix)

    assert len(pairs) == 10
    assert [(p.true, p.predicted, p.count) for p in pairs[:4]] == [
        ("label-07", "label-01", 10),
        ("label-03", "label-05", 9),
        ("label-07", "label-02", 9),
        ("label-00", "label-04", 2),
    ]
    assert round(pairs[1].share, 4) == round(9 / 30, 4)
    assert all(p.count == 1 for p in pairs[4:])


def test_with_many_labels_a_table_of_the_ten_most_confused_pairs_is_beside_the_matrix():
    labels, matrix = _many()

    html = confusion_html(labels, matrix)
    table = html[html.index('<table class="confused-pairs"') :]
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>(\d+)</td><td>([^<]*)</td></tr>", table)

    assert 'aria-label="confusion matrix"' in html
    assert "share of the true label" in table
    assert len(rows) == 10
    assert rows[0] == ("label-07", "label-01", "10", "25.0%")  # 10 of 40 examples of label-07


def test_the_drift_chart_draws_each_psi_over_time_with_the_threshold():
    version = ModelVersion(task="topic", number=2)
    start = datetime(2026, 6, 1, 9, tzinfo=UTC)
    audits = [
        DriftAudit(model_version=version, created_at=start + timedelta(hours=h), threshold=0.25,
                   label_psi=0.02 * h, embedding_psi=0.05 + 0.01 * h)
        for h in range(4)
    ]  # fmt: skip
    audits.append(DriftAudit(model_version=version, created_at=start + timedelta(hours=5), threshold=0.25))

    svg = drift_svg(audits, by_task=False)
    texts = _texts(svg)

    assert 'aria-label="drift audits"' in svg
    assert {"audited at", "PSI (population stability index)", "label PSI", "embedding PSI"} <= set(texts)
    assert "alert threshold" in texts
    assert svg.count("<polyline") == 3
    assert drift_svg(audits[-1:], by_task=False) == ""  # too little data: no PSI to draw


def test_the_drift_chart_of_every_task_has_a_line_a_task():
    start = datetime(2026, 6, 1, 9, tzinfo=UTC)
    audits = [
        DriftAudit(model_version=ModelVersion(task=task, number=1), created_at=start + timedelta(days=d),
                   threshold=0.25, label_psi=0.1, embedding_psi=0.3)
        for task in ("intent", "topic")
        for d in range(3)
    ]  # fmt: skip

    texts = _texts(drift_svg(audits, by_task=True))

    assert {"intent", "topic", "alert threshold"} <= set(texts)

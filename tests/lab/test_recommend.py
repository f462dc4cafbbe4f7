"""The recommendation's rules on hand-made figures: each constraint flips the choice as it should."""

import dataclasses

import pytest

from lab.recommend import AnswerError, Answers, Row, recommend


def row(technique: str, accuracy: float, p50: float, p95: float, fit: float, update: float, how: str,
        curve: dict[int, float], forgetting: float | None = None) -> Row:  # fmt: skip
    return Row(technique, accuracy, accuracy - 0.01, p50_ms=p50, p95_ms=p95, fit_seconds=fit,
               update_seconds=update, update_how=how, curve=curve, forgetting_change=forgetting)  # fmt: skip


KNN = row("knn", 0.90, 15, 20, 10, 0.5, "insert", {8: 0.85, 32: 0.88, 0: 0.90})
LORA = row("lora", 0.95, 10, 15, 300, 300, "retrain", {8: 0.50, 32: 0.80, 0: 0.95}, forgetting=-0.05)
TFIDF = row("tfidf", 0.88, 2, 3, 5, 5, "refit", {8: 0.60, 32: 0.80, 0: 0.88})
ICL = row("icl", 0.60, 1200, 1500, 20, 0.4, "insert", {8: 0.55, 32: 0.58, 0: 0.60})
ROWS = [KNN, LORA, TFIDF, ICL]


def chosen(**answers: object) -> str | None:
    return recommend(ROWS, Answers.build(answers)).technique


def test_the_cheapest_technique_that_meets_every_constraint_wins():
    advice = recommend(ROWS, Answers())

    assert advice.technique == "tfidf"
    assert "meets every constraint" in advice.summary
    assert {check.factor for check in advice.reasons} >= {"accuracy", "latency", "compute", "cost"}
    assert all(check.passed for check in advice.reasons)
    assert advice.runner_up in ("knn", "lora")
    assert advice.change_the_choice


def test_a_higher_accuracy_floor_chooses_the_fine_tuned_model():
    assert chosen(min_accuracy=0.92) == "lora"


def test_without_compute_for_training_nothing_meets_that_floor_and_the_answer_says_so():
    advice = recommend(ROWS, Answers.build({"min_accuracy": 0.92, "compute": "none"}))

    assert "no technique meets every constraint" in advice.summary
    assert advice.technique != "lora"


def test_when_every_technique_misses_the_floor_the_nearest_is_chosen_not_the_cheapest():
    advice = recommend(ROWS, Answers.build({"min_accuracy": 0.99}))

    assert advice.technique == "lora"  # 0.95: the nearest to 0.99, though tfidf costs less
    assert "misses them by the least" in advice.summary


def test_citations_choose_a_technique_that_can_show_its_examples():
    assert chosen(citations=True) == "knn"


def test_a_tight_latency_budget_leaves_the_fastest():
    assert chosen(latency_budget_ms=10, min_accuracy=0.85) == "tfidf"
    assert chosen(latency_budget_ms=18, min_accuracy=0.92) == "lora"


def test_scarce_data_is_judged_on_the_learning_curve():
    assert chosen(min_accuracy=0.92) == "lora"
    assert chosen(examples_per_label=8) == "knn"  # lora 0.50 and tfidf 0.60 with 8 a label


def test_a_low_tolerance_for_forgetting_refuses_a_model_that_forgot():
    advice = recommend(ROWS, Answers.build({"min_accuracy": 0.92, "drift_tolerance": "low"}))

    assert "forgetting" in advice.ranking[[r["technique"] for r in advice.ranking].index("lora")]["failed"]
    assert chosen(min_accuracy=0.92, drift_tolerance="high") == "lora"


def test_frequent_updates_favour_the_technique_that_updates_by_an_insert():
    assert chosen(requests_per_day=100, change="rarely") == "tfidf"
    assert chosen(requests_per_day=100, change="daily") == "knn"


def test_the_runner_up_says_what_would_change_the_choice():
    advice = recommend([KNN, LORA], Answers.build({"citations": True}))

    assert advice.technique == "knn"
    assert advice.runner_up == "lora"
    assert advice.change_the_choice == ["lora would be chosen with no need for citations"]


def test_rules_of_thumb_are_checked_against_the_figures():
    rules = {r["claim"]: r for r in recommend(ROWS, Answers()).rules_of_thumb}

    latency = rules["a fine-tuned model answers in 50-200 ms, retrieval (RAG) in 200-800 ms"]
    assert latency["verdict"] == "contradicts"  # knn answered in 20 ms
    assert rules["retrieval is the better choice when labelled data is scarce"]["verdict"] == "agrees"
    assert rules["a small model should be fine-tuned rather than prompted"]["verdict"] == "agrees"
    assert (
        rules["fine-tuning costs the model some of its general ability (forgetting)"]["verdict"] == "agrees"
    )
    faster_retraining = dataclasses.replace(LORA, update_seconds=0.1)
    update = {r["claim"]: r for r in recommend([KNN, faster_retraining], Answers()).rules_of_thumb}
    assert update["retrieval takes new knowledge without retraining; fine-tuning needs a new run"][
        "verdict"
    ] == ("contradicts")


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"change": "hourly"}, "change"),
        ({"latency_budget_ms": 0}, "latency_budget_ms"),
        ({"min_accuracy": 1.5}, "min_accuracy"),
        ({"min_accuracy": "high"}, "min_accuracy"),
        ({"compute": "tpu"}, "compute"),
        ({"mood": "good"}, "mood"),
    ],
)
def test_a_bad_answer_is_named(answers, field):
    with pytest.raises(AnswerError) as raised:
        Answers.build(answers)
    assert raised.value.field == field


def test_no_finished_technique_recommends_nothing():
    assert recommend([], Answers()).technique is None

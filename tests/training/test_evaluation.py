"""Metrics, calibration and the abstain threshold on small hand-made cases with known answers."""

from collections import Counter

import numpy as np
import pytest

from assistant.training.config import ConfigError, TrainingConfig
from assistant.training.data import DataError, Narrowing, Splits, dataset_hash, examples_read, split_of
from assistant.training.evaluation import abstain_effect, abstain_threshold, classification_metrics
from assistant.training.registry import Example


def test_metrics_on_a_known_confusion():
    # truth: a a a b b c ; predicted: a a b b b a
    probabilities = np.array(
        [[0.9, 0.1, 0], [0.8, 0.2, 0], [0.3, 0.7, 0], [0.2, 0.8, 0], [0.1, 0.9, 0], [0.6, 0.2, 0.2]]
    )
    metrics = classification_metrics(["a", "b", "c"], [0, 0, 0, 1, 1, 2], probabilities)

    assert metrics["accuracy"] == round(4 / 6, 4)
    assert metrics["confusion_matrix"] == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert metrics["per_class"]["a"] == {
        "precision": round(2 / 3, 4),
        "recall": round(2 / 3, 4),
        "f1": round(2 / 3, 4),
        "support": 3,
    }
    assert metrics["per_class"]["b"]["precision"] == round(2 / 3, 4)
    assert metrics["per_class"]["b"]["recall"] == 1.0
    assert metrics["per_class"]["c"]["f1"] == 0.0
    assert metrics["macro_f1"] == round((2 / 3 + 0.8 + 0) / 3, 4)


def test_expected_calibration_error_of_a_perfectly_calibrated_and_an_overconfident_model():
    calibrated = np.array([[0.75, 0.25]] * 4)
    assert classification_metrics(["a", "b"], [0, 0, 0, 1], calibrated)["ece"] == 0.0
    overconfident = np.array([[1.0, 0.0]] * 4)
    assert classification_metrics(["a", "b"], [0, 0, 1, 1], overconfident)["ece"] == 0.5


def test_the_abstain_threshold_keeps_the_longest_run_at_the_wanted_precision():
    # confidences 0.95 0.9 0.8 0.7 0.6 ; correct  yes yes yes no yes
    probabilities = np.array([[0.95, 0.05], [0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]])
    truth = [0, 0, 0, 1, 0]

    assert abstain_threshold(truth, probabilities, precision=1.0) == {
        "threshold": 0.8, "coverage": 0.6, "precision": 1.0,
    }  # fmt: skip
    assert abstain_threshold(truth, probabilities, precision=0.8)["threshold"] == 0.6
    assert abstain_threshold([1, 1, 1, 1, 1], probabilities, precision=0.5)["coverage"] == 0.0
    assert abstain_effect(truth, probabilities, 0.8) == {"coverage": 0.6, "accuracy_kept": 1.0}


def test_splits_go_by_text_so_duplicates_and_reorderings_stay_put():
    examples = [Example(f"message number {i}", "a" if i % 2 else "b") for i in range(400)]
    splits = Splits.of(examples)

    assert sum(splits.sizes().values()) == 400
    assert 0 < len(splits.calibration) < len(splits.validation) < len(splits.train)
    assert Splits.of(list(reversed(examples))).validation == list(reversed(splits.validation))
    assert split_of("Message Number 3 ") == split_of("message number 3")
    assert dataset_hash(examples) == dataset_hash(list(reversed(examples)))
    with pytest.raises(DataError, match="leave the calibration split empty"):
        Splits.of(examples[:3])


def test_a_study_narrows_only_the_training_split_and_the_same_way_for_every_technique():
    examples = [Example(f"message number {i}", "abc"[i % 3]) for i in range(900)]
    splits = Splits.of(examples)

    reserved = splits.narrowed(Narrowing(test_share=0.2))
    few = splits.narrowed(Narrowing(test_share=0.2, per_label=8, seed=3))
    held = splits.narrowed(Narrowing(test_share=0.2, held_out_label="b", held_out_keep=16))

    assert reserved.test == few.test == held.test
    assert 0.15 < len(reserved.test) / len(splits.train) < 0.25
    assert not {e.text for e in reserved.test} & {e.text for e in reserved.train}
    assert reserved.validation == splits.validation
    assert reserved.calibration == splits.calibration
    assert Counter(e.label for e in few.train) == {"a": 8, "b": 8, "c": 8}
    assert few.train == splits.narrowed(Narrowing(test_share=0.2, per_label=8, seed=3)).train
    assert Counter(e.label for e in held.train)["b"] == 16
    assert not Narrowing()
    with pytest.raises(ConfigError, match="test_share"):
        TrainingConfig.build({"test_share": 0.9})


def test_example_files_with_problems_are_refused_naming_file_and_line(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("text,category\nwhere is my card,card\n")
    assert examples_read(good, text_column="text", label_column="category", labels=["card"]) == [
        Example("where is my card", "card")
    ]
    cases = {
        "missing.csv": (None, "no such file"),
        "data.txt": ("text,label\n", "unsupported file type .txt"),
        "nocolumn.csv": ("words,category\nhi,card\n", "line 2 has no column 'text'"),
        "unknown.csv": (
            "text,category\nhi,loan\n",
            "example 1 has label 'loan', which the task does not have",
        ),
        "empty.csv": ("text,category\n", "no examples"),
        "blank.csv": ("text,category\n  ,card\n", "line 2 has an empty 'text'"),
        "broken.jsonl": ('{"text": "hi", "category": "card"}\n{not json\n', "cannot be read"),
        "list.jsonl": ('["hi", "card"]\n', "line 1 is not a JSON object"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_text(content)
        with pytest.raises(DataError, match=message) as raised:
            examples_read(path, text_column="text", label_column="category", labels=["card"])
        assert raised.value.field == "data"

"""`manage.py train` and `manage.py evaluate_model`, as a person runs them."""

import csv
import json

import pytest
from django.core.management import CommandError, call_command

from assistant.training.models import ModelVersion
from tests.support.training import TOPIC_TASK, tone_examples

pytestmark = pytest.mark.django_db
TASK = TOPIC_TASK.name


@pytest.mark.slow
def test_train_shows_progress_and_ends_with_the_metrics(capsys):
    call_command("train", TASK, "--method", "full", "--epochs", "1", "--activate", "always")

    out, err = capsys.readouterr()
    assert "training:" in err
    assert "on 1 epoch" not in out
    assert "held-out examples: accuracy" in out
    assert "macro-F1" in out
    assert "abstains below confidence" in out
    assert ModelVersion.objects.get().status == ModelVersion.Status.ACTIVE


def test_train_fits_each_task_it_is_given_in_turn(capsys):
    call_command("train", TASK, TASK, "--method", "zero-shot", "--activate", "always", "--unless-active")

    out, _ = capsys.readouterr()
    assert out.count("held-out examples: accuracy") == 1
    assert f"{TASK} has an active version: nothing to train" in out
    assert ModelVersion.objects.get().method == "zero-shot"


@pytest.mark.slow
def test_train_and_evaluate_on_files_with_other_columns(tmp_path, capsys):
    data = tmp_path / "topics.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(tone_examples())
    call_command("train", TASK, "--data", str(data), "--epochs", "1", "--activate", "always")
    capsys.readouterr()
    held_out = tmp_path / "held_out.jsonl"
    held_out.write_text(
        "\n".join(json.dumps({"message": text, "topic": label}) for text, label in tone_examples()[::7])
    )
    out_file = tmp_path / "metrics.json"

    call_command(
        "evaluate_model", TASK, "--data", str(held_out), "--text-column", "message",
        "--label-column", "topic", "--json", str(out_file),
    )  # fmt: skip

    out = capsys.readouterr().out
    metrics = json.loads(out_file.read_text())
    assert f"accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}" in out
    assert metrics["examples"] == len(tone_examples()[::7])
    assert 0 <= metrics["accuracy"] <= 1
    assert set(metrics["per_class"]) == set(TOPIC_TASK.labels)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["train", "no-such-task"], "no classification task 'no-such-task'"),
        (["train", TASK, "--epochs", "0"], "epochs must be at least 1"),
        (["train", TASK, "--data", "missing.csv"], "no such file"),
        (["evaluate_model", TASK, "--data", "missing.csv"], "no such file"),
    ],
)
def test_bad_arguments_fail_with_the_problem_named(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command(*arguments)


def test_evaluating_without_an_active_version_says_so(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("text,label\nmy card pin,card\n")

    with pytest.raises(CommandError, match="has no active model version"):
        call_command("evaluate_model", TASK, "--data", str(data))

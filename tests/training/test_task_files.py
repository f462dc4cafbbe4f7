"""Tasks a person brings from a file: stored as a versioned dataset, trained like a registered one,
and every bad file refused by name with nothing stored."""

import io

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from assistant.core import roles
from assistant.training.data import DataError, examples_parse
from assistant.training.models import Dataset, DatasetRow, TaskDefinition, TrainingRun
from assistant.training.registry import task_get, tasks
from assistant.training.services import TaskExists, run_execute, run_submit, task_create
from claims.learning import LINE_OF_BUSINESS
from tests.support.training import tone_examples


def csv_of(rows: list[tuple[str, str]], header: str = "message,topic") -> bytes:
    lines = [header, *(f'"{text}",{label}' for text, label in rows)]
    return ("\n".join(lines) + "\n").encode()


COLUMNS = {"text_column": "message", "label_column": "topic"}
GOOD = csv_of([(e.text, e.label) for e in tone_examples()])


def test_a_task_created_from_a_csv_is_stored_listed_and_trains(db):
    dataset = task_create(
        name="topics", file_name="topics.csv", content=GOOD, text_column="message", label_column="topic"
    )

    assert dataset.rows == len(tone_examples())
    assert dataset.label_counts == {"card": 192, "fraud": 192, "loan": 192}
    assert len(dataset.hash) == 64
    assert DatasetRow.objects.filter(dataset=dataset).count() == dataset.rows
    assert "topics" in [spec.name for spec in tasks()]
    assert task_get("topics").labels == ("card", "fraud", "loan")
    run = run_execute(run_submit(task="topics", options={"method": "tfidf"}, dispatch=False).pk)
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert run.model_version.metrics["accuracy"] > 0.9


@pytest.mark.parametrize(
    ("content", "file_name", "message"),
    [
        (csv_of([("a", "x")], header="text,label"), "t.csv", "no column 'message'"),
        (csv_of([("a card", "card"), ("b card", "card")]), "t.csv", "two labels or more; it has 1"),
        (
            csv_of([*[(f"card {i}", "card") for i in range(40)], ("one loan", "loan")]),
            "t.csv",
            "'loan' has one",
        ),
        (csv_of([("", "card"), ("b", "loan")]), "t.csv", "line 2 has an empty 'message'"),
        ("message,topic\ncaf\xe9,card\n".encode("latin-1"), "t.csv", "not UTF-8 text"),
        (b'{"message": "a", "topic": "card"}\n{"message": "b\\q"}\n', "t.jsonl", "cannot be read"),
        (GOOD, "t.xlsx", "unsupported file type .xlsx"),
        (
            csv_of([("card one", "card"), ("card two", "card"), ("loan one", "loan"), ("loan two", "loan")]),
            "t.csv",
            "split empty",
        ),
    ],
)
def test_a_bad_file_is_refused_by_name_and_nothing_is_stored(db, content, file_name, message):
    with pytest.raises(DataError) as refused:
        task_create(
            name="topics", file_name=file_name, content=content, text_column="message", label_column="topic"
        )

    assert message in refused.value.message
    assert refused.value.field == "data"
    assert not TaskDefinition.objects.exists()
    assert not Dataset.objects.exists()


def test_an_oversized_file_and_a_taken_name_are_refused(db, settings):
    settings.TASK_FILE_MAX_BYTES = 100
    with pytest.raises(DataError, match="FINASSIST_TASK_FILE_MAX_BYTES"):
        task_create(
            name="topics", file_name="t.csv", content=GOOD, text_column="message", label_column="topic"
        )
    with pytest.raises(TaskExists, match="exists already"):
        task_create(name="claims-route", file_name="t.csv", content=GOOD)


def test_the_command_creates_a_task_and_names_what_is_wrong(db, tmp_path):
    path = tmp_path / "topics.csv"
    path.write_bytes(GOOD)
    out = io.StringIO()

    call_command("task_create", "topics", data=path, text_column="message", label_column="topic", stdout=out)

    assert "576 examples, 3 labels" in out.getvalue()
    with pytest.raises(CommandError, match="no column 'text'"):
        call_command("task_create", "other", data=path)


def test_the_api_creates_a_task_for_an_ml_engineer_and_answers_400_for_a_bad_file(client, db):
    user = User.objects.create_user("eng")
    Group.objects.get(name=roles.ML_ENGINEER).user_set.add(user)
    client.force_login(user)

    created = client.post(
        "/api/training/tasks",
        {
            "name": "topics",
            "data": SimpleUploadedFile("topics.csv", GOOD),
            "text_column": "message",
            "label_column": "topic",
        },
    )
    bad = client.post(
        "/api/training/tasks",
        {"name": "other", "data": SimpleUploadedFile("t.csv", csv_of([("a", "card"), ("b", "card")]))},
    )
    taken = client.post(
        "/api/training/tasks",
        {
            "name": "topics",
            "data": SimpleUploadedFile("topics.csv", GOOD),
            "text_column": "message",
            "label_column": "topic",
        },
    )

    assert created.status_code == 201, created.json()
    assert created.json()["labels"] == ["card", "fraud", "loan"]
    assert created.json()["dataset"]["rows"] == 576
    assert bad.status_code == 400
    assert "no column 'text'" in bad.json()["data"][0]
    assert taken.status_code == 409


def test_a_dataset_s_own_label_names_are_read_where_the_task_maps_them(db):
    spec = task_get(LINE_OF_BUSINESS)
    content = b'{"question": "Does my policy cover a flood?", "domain": "home-insurance"}\n'

    examples = examples_parse(
        "test.jsonl", content, text_column="question", label_column="domain", labels=spec.labels,
        aliases=spec.label_aliases,
    )  # fmt: skip

    assert examples[0].label == "home"


def test_the_admin_creates_a_task_from_an_upload_and_shows_a_bad_file_s_reason(client, db):
    user = User.objects.create_user("eng", is_staff=True)
    Group.objects.get(name=roles.ML_ENGINEER).user_set.add(user)
    client.force_login(user)

    bad = client.post(
        "/admin/training/taskdefinition/add/",
        {"name": "topics", "file": SimpleUploadedFile("t.csv", csv_of([("a", "card")])), **COLUMNS},
    )
    good = client.post(
        "/admin/training/taskdefinition/add/",
        {"name": "topics", "file": SimpleUploadedFile("topics.csv", GOOD), **COLUMNS},
    )

    assert "two labels or more" in bad.content.decode()
    assert good.status_code == 302
    assert TaskDefinition.objects.get().labels == ["card", "fraud", "loan"]

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from assistant.knowledge.models import Chunk, Collection, Document, DocumentStatus, LexiconState
from assistant.knowledge.services.submission import collection_get_or_create
from tests.support.processes import ROOT

pytestmark = pytest.mark.django_db
SHARED = ROOT.parent / "shared" / "data"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_ingest_takes_files_and_folders_and_names_what_it_rejected(tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_text("# A\n\nAlpha text.")
    (folder / "sub" / "b.txt").write_text("Beta text.")
    (folder / "ignored.png").write_bytes(b"\x89PNG")
    empty = tmp_path / "empty.txt"
    empty.write_text("")

    with pytest.raises(CommandError, match="1 file\\(s\\) rejected; the others went in"):
        run("ingest", str(folder), str(empty), "--collection", "handbook")

    assert sorted(Document.objects.values_list("external_id", flat=True)) == ["a.md", "sub/b.txt"]
    assert Chunk.objects.count() == 2
    assert LexiconState.objects.get().chunks == 2


def test_ingest_of_a_missing_path_is_a_clear_error():
    with pytest.raises(CommandError, match=r"nowhere\.md: no such file or folder"):
        run("ingest", "nowhere.md", "--collection", "handbook")


def test_load_dataset_names_the_missing_folder_and_the_setting(settings, tmp_path):
    settings.DATASETS_DIR = tmp_path

    with pytest.raises(CommandError, match="set FINASSIST_DATASETS_DIR"):
        run("load_dataset", "ask_cfpb")
    assert "not loaded" in run("load_dataset", "ask_cfpb", "--if-present")
    assert not Collection.objects.filter(name="ask-cfpb").exists()


@pytest.mark.slow
@pytest.mark.skipif(
    not (SHARED / "ask_cfpb").is_dir(), reason="the shared datasets folder is not on this machine"
)
def test_ask_cfpb_loads_with_its_ids_and_its_questions_evaluate(tmp_path):
    out = run("load_dataset", "ask_cfpb", "--limit", "40")
    queries = tmp_path / "q.jsonl"
    run("export_eval_queries", "ask_cfpb", "--out", str(queries))
    loaded = set(Document.objects.values_list("external_id", flat=True))
    mine = [
        row for row in map(json.loads, queries.read_text().splitlines()) if set(row["relevant"]) <= loaded
    ]
    queries.write_text("".join(json.dumps(row) + "\n" for row in mine))
    metrics_file = tmp_path / "metrics.json"

    run(
        "evaluate_retrieval",
        "--collection",
        "ask-cfpb",
        "--queries",
        str(queries),
        "--json",
        str(metrics_file),
    )

    assert "40 document(s) into collection ask-cfpb" in out
    assert "ask-cfpb-1" in loaded
    metrics = json.loads(metrics_file.read_text())
    assert set(metrics) >= {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"}
    assert metrics["queries"] == len(mine) > 10
    assert metrics["recall@10"] > 0.8


@pytest.mark.skipif(
    not (SHARED / "financebench").is_dir(), reason="the shared datasets folder is not on this machine"
)
def test_financebench_questions_are_labelled_by_page(tmp_path):
    queries = tmp_path / "q.jsonl"

    out = run("export_eval_queries", "financebench", "--out", str(queries))

    rows = [json.loads(line) for line in queries.read_text().splitlines()]
    assert "40 financebench queries (all)" in out
    assert all(label.rsplit("#p", 1)[1].isdigit() for row in rows for label in row["relevant"])


def test_the_validation_and_test_splits_partition_the_questions(tmp_path, settings):
    folder = tmp_path / "ask_cfpb"
    folder.mkdir()
    rows = [{"ask_id": i, "question": f"Question {i}?", "relevant_ask_ids": [i]} for i in range(100)]
    (folder / "kb_answers.jsonl").write_text("")
    (folder / "questions_train.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    settings.DATASETS_DIR = tmp_path
    halves = {}
    for split in ("validation", "test"):
        path = tmp_path / f"{split}.jsonl"
        run("export_eval_queries", "ask_cfpb", "--split", split, "--out", str(path))
        halves[split] = {json.loads(line)["query"] for line in path.read_text().splitlines()}

    assert halves["validation"].isdisjoint(halves["test"])
    assert len(halves["validation"] | halves["test"]) == 100
    assert 30 < len(halves["validation"]) < 70


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "line 1: expected"),
        ('{"query": "x", "relevant": []}\n', "line 1: needs a query"),
        ('{"query": "  ", "relevant": ["a"]}\n', "line 1: needs a query"),
        (
            '{"query": "x", "relevant": ["a"]}\n{"query": "y", "relevant": ["b#p3", "c"]}\n',
            "line 2: no document b, c",
        ),
        ("", "no queries"),
    ],
)
def test_evaluate_retrieval_refuses_a_malformed_query_file(tmp_path, content, message):
    collection = Collection.objects.create(name="c", embedding_model="all-MiniLM-L6-v2")
    Document.objects.create(collection=collection, external_id="a", title="a", checksum="a")
    path = tmp_path / "q.jsonl"
    path.write_text(content)

    with pytest.raises(CommandError, match=message):
        run("evaluate_retrieval", "--collection", "c", "--queries", str(path))
    with pytest.raises(CommandError, match="no collection named 'nowhere'"):
        run("evaluate_retrieval", "--collection", "nowhere", "--queries", str(path))


def test_evaluate_retrieval_narrows_questions_as_the_advisory_answer_path_does(tmp_path, index_files):
    """Two companies' filings, the other's closer to the words of the question: only narrowing to
    the company the question names finds the right one."""
    collection = collection_get_or_create(name="filings")
    filings = [
        ("Acme Corp", "filing-a.md", "# Results\n\nHow much did revenue grow? Revenue grew in fiscal 2022."),
        ("Globex Corp", "filing-b.md", "# Results\n\nSales rose eight percent over the year."),
    ]
    for company, name, text in filings:
        index_files(collection, [(name, text.encode())], metadata={"company": company, "doc_period": 2022})
    queries = tmp_path / "q.jsonl"
    question = {"query": "How much did Globex revenue grow in FY2022?", "relevant": ["filing-b.md"]}
    queries.write_text(json.dumps(question) + "\n")
    metrics = {}
    for narrow in (True, False):
        out = tmp_path / f"{narrow}.json"
        run(
            "evaluate_retrieval",
            "--collection",
            "filings",
            "--queries",
            str(queries),
            "--json",
            str(out),
            *(["--narrow"] if narrow else []),
        )
        metrics[narrow] = json.loads(out.read_text())

    assert (metrics[True]["narrow"], metrics[True]["recall@1"]) == (True, 1.0)
    assert (metrics[False]["narrow"], metrics[False]["recall@1"]) == (False, 0.0)


def test_ingest_shows_each_stage_with_its_total_from_the_start(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(3):
        (folder / f"{n}.md").write_text(f"# Note {n}\n\n" + "A sentence about fees and charges. " * 60)
    err = StringIO()

    call_command("ingest", str(folder), "--collection", "notes", stdout=StringIO(), stderr=err)

    chunks = Chunk.objects.count()
    shown = err.getvalue()
    assert "chunking: 100%" in shown
    assert "3/3" in shown
    assert f"0/{chunks}" in shown  # the total, before the first batch is embedded
    assert f"{chunks}/{chunks}" in shown


@pytest.mark.skipif(
    not (SHARED / "ask_cfpb").is_dir(), reason="the shared datasets folder is not on this machine"
)
def test_load_dataset_can_leave_the_indexing_to_the_ingest_worker(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as sent:
        out = run("load_dataset", "ask_cfpb", "--limit", "5", "--queue")

    assert "5 document(s) queued for the ingest worker" in out
    assert len(sent) == 5
    assert set(Document.objects.values_list("status", flat=True)) == {DocumentStatus.PENDING}

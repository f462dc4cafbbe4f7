"""Knowledge studies on a tiny collection: retrieval against knn and a closed-book fine-tuned
classifier, and the freshness scenario (entries revised and added, each technique's update)."""

import io
import json
import time

import pytest
from django.core.management import call_command

from assistant.knowledge.models import Collection
from assistant.training.models import ExampleIndex
from lab.export import figures, markdown
from lab.knowledge import arm_run, knowledge_study_create, questions_checked
from lab.models import SCRATCH_PREFIX, Status, Study
from lab.services import StudyError, study_cancel

# (id, title, text, training questions, test question): ten entries of a fictional bank's help pages.
ENTRIES = [
    (
        "card-lost",
        "Lost or stolen cards",
        "Freeze a lost debit card in the app at once, then order a replacement; it arrives in five "
        "working days.",
        ["I lost my debit card, what do I do?", "Someone stole my card"],
        "How do I block a card I cannot find?",
    ),
    (
        "mortgage-overpay",
        "Mortgage overpayments",
        "You may overpay your fixed-rate mortgage by up to ten percent of the balance each year "
        "without an early repayment charge.",
        ["Can I pay extra off my mortgage?", "Is there a fee to overpay my home loan?"],
        "How much can I overpay on my mortgage each year?",
    ),
    (
        "isa-allowance",
        "ISA allowance",
        "The annual ISA allowance is twenty thousand pounds, shared across cash, stocks and shares "
        "and innovative finance ISAs.",
        ["How much can I put in an ISA?", "What is the ISA limit this year?"],
        "Is the ISA allowance shared between cash and stocks ISAs?",
    ),
    (
        "overdraft-fees",
        "Arranged overdraft interest",
        "An arranged overdraft costs 39.9 percent a year in interest, charged daily on the "
        "overdrawn balance; there is no monthly fee.",
        ["What does my overdraft cost?", "Overdraft interest rate"],
        "Is there a monthly fee for an arranged overdraft?",
    ),
    (
        "abroad-payments",
        "Paying abroad",
        "Card payments abroad carry no foreign transaction fee; cash withdrawals abroad cost two "
        "percent of the amount.",
        ["Are there fees for using my card in France?", "Foreign transaction fee"],
        "What does it cost to take cash out of an ATM abroad?",
    ),
    (
        "joint-account",
        "Opening a joint account",
        "Two adults can open a joint current account online; both must verify their identity and "
        "either may close it.",
        ["How do I open an account with my partner?", "Joint account application"],
        "Can either holder close a joint account?",
    ),
    (
        "cheque-deposit",
        "Depositing cheques",
        "Deposit a cheque by photographing both sides in the app; funds clear by the end of the "
        "next working day.",
        ["How do I pay in a cheque?", "Can I deposit a cheque with my phone?"],
        "When will a cheque I paid in clear?",
    ),
    (
        "savings-rate",
        "Easy-access savings rate",
        "The easy-access saver pays 3.1 percent gross a year, variable, with interest paid monthly "
        "and unlimited withdrawals.",
        ["What interest does the saver pay?", "Savings account rate"],
        "Can I withdraw from the easy-access saver whenever I like?",
    ),
    (
        "fraud-refund",
        "Fraud refunds",
        "Report an unauthorised payment within thirteen months and we refund it by the end of the "
        "next working day unless we suspect fraud by you.",
        ["I see a payment I did not make", "Will I get my money back after fraud?"],
        "How long do I have to report a payment I did not authorise?",
    ),
    (
        "pension-transfer",
        "Transferring a pension",
        "Transfer an old workplace pension to our personal pension online; the transfer usually "
        "completes within four weeks.",
        ["Can I move my old pension to you?", "Pension consolidation"],
        "How long does a pension transfer take?",
    ),
]


@pytest.fixture
def help_pages(db, index_files) -> Collection:
    collection = Collection.objects.create(name="help-pages", embedding_model="all-MiniLM-L6-v2")
    files = [(f"{i}.md", f"# {title}\n\n{text}\n".encode()) for i, title, text, _, _ in ENTRIES]
    index_files(collection, files)
    return collection


@pytest.fixture
def questions(tmp_path):
    rows = [
        {"query": question, "relevant": [f"{i}.md"], "split": "train"}
        for i, _, _, asked, _ in ENTRIES
        for question in asked
    ]
    rows += [{"query": test, "relevant": [f"{i}.md"], "split": "test"} for i, _, _, _, test in ENTRIES]
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_questions_must_name_the_collections_entries_and_a_split():
    assert questions_checked([{"query": "a?", "relevant": ["x#p3", "gone"], "split": "test"}], ["x"])[
        0
    ].relevant == ("x",)
    assert questions_checked([{"query": "a?", "relevant": ["gone"]}], ["x"]) == []
    for bad in (
        {"query": "", "relevant": ["x"]},
        {"query": "a?", "relevant": []},
        {"query": "a", "relevant": ["x"], "split": "dev"},
    ):
        with pytest.raises(StudyError) as raised:
            questions_checked([bad], ["x"])
        assert raised.value.field == "questions"


@pytest.mark.slow
def test_knowledge_study_compares_rag_knn_and_a_closed_book_model_and_their_freshness(
    help_pages, questions, settings, tmp_path, engineer
):
    settings.DATASETS_DIR = tmp_path / "no-datasets"  # forgetting is judged on the demo FAQ
    out, printed = tmp_path / "study.json", io.StringIO()

    call_command(
        "compare_knowledge", "help-pages", "--questions", str(questions),
        "--techniques", "rag", "knn", "lora", "--option", "lora.epochs=1", "--json", str(out),
        stdout=printed,
    )  # fmt: skip

    result = json.loads(out.read_text())
    assert result["kind"] == "knowledge"
    assert result["recommendation"] in ("rag", "knn", "lora")
    change = result["change"]
    assert len(change["revised"]) == 1
    assert len(change["added"]) == 1
    assert change["questions"] == {"train": 20, "test": 10}
    techniques = result["techniques"]
    for technique, figures_of in techniques.items():
        assert figures_of["status"] == "succeeded", figures_of["error"]
        assert {"top1", "recall@5", "ndcg@10", "mrr@10"} <= set(figures_of["test"])
        assert figures_of["test"]["questions"] == 10
        assert figures_of["speed"]["p95_ms"] > 0
        assert figures_of["cost"]["fit_seconds"] > 0
        assert figures_of["cost"]["artefact_bytes"] > 0
        fresh = figures_of["freshness"]
        assert fresh["how"] == {"rag": "re-index", "knn": "insert"}.get(technique, "retrain")
        assert fresh["questions"] == 2  # the test questions about the revised and the added entry
        assert fresh["before"]["current"] == 0.0  # one entry did not exist, the other was an old version
        assert fresh["seconds"] > 0
        assert fresh["curve"][0] == [0.0, 0.0]
        assert fresh["curve"][-1][1] == fresh["after"]
    # The stock MiniLM finds these pages; the search serves the revised page once re-indexed.
    assert techniques["rag"]["test"]["top1"] >= 0.8
    assert techniques["rag"]["freshness"]["after"] == 1.0
    assert techniques["rag"]["freshness"]["before"]["stale"] == 0.5  # the revised page, at its old version
    assert techniques["lora"]["forgetting"]["reference"] == "demo FAQ questions"
    # Nothing of the study is left behind: the scratch collection, the indexes, the models.
    assert not Collection.objects.filter(name__startswith=SCRATCH_PREFIX).exists()
    assert not ExampleIndex.objects.filter(task__startswith="lab-knowledge-").exists()
    assert not (settings.MODELS_DIR / "lab").exists() or not any(
        (settings.MODELS_DIR / "lab").rglob("*.safetensors")
    )
    text = printed.getvalue()
    assert "Knowledge study" in text
    assert "Freshness:" in text
    study = Study.objects.get(pk=result["study"])
    drawn = figures(study)
    assert "share current" in drawn["freshness"]
    assert "<polyline" in drawn["freshness"]
    assert "| rag |" in markdown(study)
    page = engineer.get(f"/lab/studies/{study.pk}/")
    assert page.status_code == 200
    assert b'id="plot-freshness"><svg' in page.content
    assert b"Adopt" not in page.content  # a knowledge study has no version to serve
    assert engineer.post(f"/lab/studies/{study.pk}/adopt").status_code in (302, 400)
    assert engineer.get(f"/lab/studies/{study.pk}/export.pdf").content.startswith(b"%PDF")


def test_a_knowledge_study_needs_a_collection_and_questions_about_it(help_pages, questions):
    rows = [json.loads(line) for line in questions.read_text().splitlines()]
    with pytest.raises(StudyError) as raised:
        knowledge_study_create(collection="nowhere", questions=rows, dispatch=False)
    assert raised.value.field == "collection"
    with pytest.raises(StudyError) as raised:
        knowledge_study_create(collection="help-pages", questions=rows[:3], dispatch=False)
    assert raised.value.field == "questions"
    with pytest.raises(StudyError) as raised:
        knowledge_study_create(collection="help-pages", questions=rows, techniques=["probe"], dispatch=False)
    assert raised.value.field == "techniques"
    with pytest.raises(StudyError) as raised:
        knowledge_study_create(
            collection="help-pages", questions=rows, options={"rag": {"epochs": 1}}, dispatch=False
        )
    assert raised.value.field == "options"


def test_a_cancelled_knowledge_study_runs_nothing(help_pages, questions):
    rows = [json.loads(line) for line in questions.read_text().splitlines()]
    study = knowledge_study_create(collection="help-pages", questions=rows, dispatch=False)
    study_cancel(study)
    for arm in study.arms.all():
        arm_run(arm.pk)
        arm.refresh_from_db()
        assert arm.status == Status.CANCELLED
        assert arm.results == {}
    assert not Collection.objects.filter(name__startswith=SCRATCH_PREFIX).exists()


def test_the_api_starts_a_knowledge_study_and_names_bad_fields(db, engineer, help_pages, questions, settings):
    rows = [json.loads(line) for line in questions.read_text().splitlines()]
    missing = engineer.post("/api/lab/studies", {"kind": "knowledge"}, content_type="application/json")
    assert missing.status_code == 400
    assert "collection" in json.dumps(missing.json())
    wrong = engineer.post(
        "/api/lab/studies", {"kind": "knowledge", "collection": "help-pages", "questions": rows[:2]},
        content_type="application/json",
    )  # fmt: skip
    assert wrong.status_code == 400
    assert "questions" in json.dumps(wrong.json())
    both = engineer.post(
        "/api/lab/studies",
        {"kind": "knowledge", "collection": "help-pages", "questions": rows, "dataset": "ask_cfpb"},
        content_type="application/json",
    )
    assert both.status_code == 400


def test_the_page_offers_a_knowledge_study_and_names_what_is_missing(db, engineer, help_pages):
    page = engineer.get("/lab/")
    assert b'id="knowledge-form"' in page.content
    assert b'<option value="help-pages">' in page.content
    refused = engineer.post("/lab/", {"knowledge-collection": "help-pages", "knowledge-techniques": ["rag"]})
    assert refused.status_code == 400
    assert b"give a file of questions" in refused.content


@pytest.mark.slow
def test_a_knowledge_study_runs_through_real_workers(
    start_worker, test_queue, help_pages, questions, settings, tiny_model, tmp_path
):
    start_worker(
        test_queue,
        FINASSIST_TRAINING_BASE_MODEL=tiny_model,
        FINASSIST_MODELS_DIR=str(settings.MODELS_DIR),
        FINASSIST_DATASETS_DIR=str(tmp_path / "no-datasets"),
    )
    rows = [json.loads(line) for line in questions.read_text().splitlines()]

    study = knowledge_study_create(
        collection="help-pages",
        questions=rows,
        techniques=["rag", "knn", "lora"],
        options={"lora": {"epochs": 1}},
    )

    deadline = time.monotonic() + 300
    while Study.objects.get(pk=study.pk).status not in (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED):
        assert time.monotonic() < deadline, list(study.arms.values("technique", "status", "stage", "error"))
        time.sleep(1)
    study.refresh_from_db()
    assert study.status == Status.SUCCEEDED, list(study.arms.values("technique", "error"))
    assert set(study.results["test"]) == {"rag", "knn", "lora"}
    assert all(arm.results["freshness"]["seconds"] > 0 for arm in study.arms.all())
    assert not Collection.objects.filter(name__startswith=SCRATCH_PREFIX).exists()

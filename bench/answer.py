"""Advisory answers: correctness, end-to-end latency and evidence-page recall on FinanceBench.

    .venv/bin/python bench/answer.py [--repeats 5] [--warmup 5] [--backends extractive transformers]

Runs in its own database (finassist_bench). Loads the `financebench` collection from the
datasets folder when it is not there yet (about 10,000 filing pages; the first run spends
most of its time embedding them), then asks every development question whose filing is in
the corpus (40 of the 51 shared ones) as an advisor would, in the knowledge scope:

- Evidence-page recall@10: the share of a question's gold evidence pages (document, page)
  among the pages of the ten passages the answer is given, averaged over questions; also
  the share of questions with at least one evidence page in the ten. Reported for the
  answer path (hybrid search narrowed to the company and year the question names), for
  the same search without that narrowing, and for TF-IDF over all pages as a baseline.
- Answer correctness per backend (`extractive`; `transformers` with the bundled SmolLM2-135M
  unless FINASSIST_GENERATION_MODEL names another): for each question whose gold answer states a
  figure, the answer is correct when it states one of the gold figures within rounding, as
  the FinanceBench paper allows: within half a unit of the figure's last digit or 1 %, in any
  scale (FinanceBench writes "$1577 million" where a filing's table says 1,577 in millions).
  Years are periods, not figures. Questions whose gold answer has no figure (a yes or no with
  reasons) are counted apart; so are answers that say the knowledge base does not answer.
- Latency: the whole answer with the extractive backend (embed the question, retrieve,
  compose the cited answer, store it with its citations), p50/p95 over every question
  asked `--repeats` times after `--warmup` unmeasured answers, with each stage's share.
"""

from __future__ import annotations

import argparse
import json
import time

from common import django_setup, summary_ms, use_database, write_result

use_database("finassist_bench")
django_setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402

from advisory.evaluation import figure_correct  # noqa: E402
from advisory.services import answer_create, answer_start, knowledge_passages  # noqa: E402
from assistant.core import roles  # noqa: E402
from assistant.generation.base import NO_ANSWER  # noqa: E402
from assistant.knowledge.datasets import DATASETS, eval_queries  # noqa: E402
from assistant.knowledge.models import Collection, DocumentStatus  # noqa: E402

COLLECTION = "financebench"


def _advisor() -> User:
    call_command("migrate", verbosity=0)
    if not Collection.objects.filter(name=COLLECTION, documents__status=DocumentStatus.READY).exists():
        call_command("load_dataset", "financebench")
    collection = Collection.objects.get(name=COLLECTION)
    advisors = Group.objects.get(name=roles.ADVISOR)
    collection.reader_groups.add(advisors)
    advisor, _ = User.objects.get_or_create(username="bench-advisor")
    advisor.groups.add(advisors)
    return advisor


def _pages(results: list) -> list[str]:
    return [f"{r.external_id}#p{r.page}" for r in results]


def _recall(questions: list[dict], retrieved: list[list[str]]) -> dict[str, float]:
    recall = hit = 0.0
    for question, pages in zip(questions, retrieved, strict=True):
        found = set(pages[:10]) & set(question["relevant"])
        recall += len(found) / len(question["relevant"])
        hit += bool(found)
    return {"recall_at_10": round(recall / len(questions), 4), "hit_at_10": round(hit / len(questions), 4)}


def _tfidf(questions: list[dict]) -> list[list[str]]:
    import json
    import lzma

    from sklearn.feature_extraction.text import TfidfVectorizer

    keys, texts = [], []
    with lzma.open(DATASETS["financebench"].path() / "corpus_pages.jsonl.xz", "rt") as pages:
        for line in pages:
            page = json.loads(line)
            keys.append(f"{page['doc_name']}#p{page['page_num']}")
            texts.append(page["text"])
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    matrix = vectorizer.fit_transform(texts)
    scores = (vectorizer.transform([q["query"] for q in questions]) @ matrix.T).toarray()
    return [[keys[i] for i in row.argsort()[::-1][:10]] for row in scores]


def _correctness(advisor: User, backend_name: str) -> dict[str, object]:
    gold = {
        row["question"]: row["answer"]
        for row in map(json.loads, (DATASETS["financebench"].path() / "questions_dev.jsonl").open())
        if row.get("doc_in_corpus")
    }
    verdicts, unanswered, seconds = [], 0, []
    for question, expected in gold.items():
        started = time.perf_counter()
        answer = answer_create(
            advisor=advisor,
            question=question,
            scope="knowledge",
            collections=[COLLECTION],
            backend_name=backend_name,
        )
        seconds.append(time.perf_counter() - started)
        unanswered += NO_ANSWER in answer.text
        verdicts.append(figure_correct(answer.text, expected))
    scored = [verdict for verdict in verdicts if verdict is not None]
    return {
        "model": answer.model_name,
        "questions": len(verdicts),
        "with_a_gold_figure": len(scored),
        "correct": sum(scored),
        "accuracy": round(sum(scored) / len(scored), 4) if scored else None,
        "said_it_cannot_answer": unanswered,
        "seconds_an_answer": summary_ms(seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--backends", nargs="+", choices=settings.GENERATION_BACKENDS, default=["extractive", "transformers"]
    )
    options = parser.parse_args()

    advisor = _advisor()
    if "transformers" in options.backends and not settings.GENERATION_MODEL:
        settings.GENERATION_MODEL = "smollm2"
    correctness = {name: _correctness(advisor, name) for name in options.backends}
    questions = [row for _, row in eval_queries("financebench")]
    narrowed = [
        _pages(knowledge_passages(advisor=advisor, question=q["query"], collections=[COLLECTION]))
        for q in questions
    ]
    plain = [
        _pages(
            knowledge_passages(advisor=advisor, question=q["query"], collections=[COLLECTION], narrow=False)
        )
        for q in questions
    ]
    quality = {
        "questions": len(questions),
        "answer_path": _recall(questions, narrowed),
        "hybrid_without_company_and_year": _recall(questions, plain),
        "tfidf_all_pages": _recall(questions, _tfidf(questions)),
    }

    def ask(question: str) -> dict[str, float]:
        started = time.perf_counter()
        asking = answer_start(advisor=advisor, question=question, scope="knowledge", collections=[COLLECTION])
        for _ in asking.stream():
            pass
        return {**asking.timings, "wall": time.perf_counter() - started}

    for question in questions[: options.warmup]:
        ask(question["query"])
    samples = [ask(q["query"]) for _ in range(options.repeats) for q in questions]
    latency = {
        "backend": "extractive",
        "answers": len(samples),
        "end_to_end": summary_ms([s["wall"] for s in samples]),
        "stages_ms": {
            stage: summary_ms([s[stage] / 1000 for s in samples])
            for stage in ("embed", "retrieve", "generate")
        },
    }
    write_result(
        "answer",
        {
            "financebench_correctness": correctness,
            "financebench_recall": quality,
            "financebench_latency": latency,
        },
    )


if __name__ == "__main__":
    main()

"""What more training pairs and a trained reranker add on the held-out fifth of Ask CFPB's questions.

    .venv/bin/python bench/retrieval_levers.py [--arms questions cloze reranker curve]

The platform's retrieval tasks train on the validation half's questions but one in five (360) and
score on that fifth (73, `tuning.held_out`); this benchmark trains the same way, outside the
registry, to compare what the tasks do with two levers they lack or use:

- `questions`: the embedding task as it is (each question, its passage and one hard negative).
- `cloze`: the same questions plus one pair from every chunk of the collection, the inverse cloze
  task: a sentence of the chunk as the question, the rest of the chunk as its passage (the whole
  chunk one time in ten, so that the model still learns that a sentence finds its own passage).
  Five times the pairs, so one epoch.
- `reranker`: the reranking task at its defaults, reordering the stock retriever's first 10 and
  20 passages.
- `curve`: the `questions` arm trained on 45, 90, 180 and all 360 of the questions (a random
  subset each, the same settings), scored on the test half of Ask CFPB's questions (374): how the
  gain grows with the questions a collection has.

Exact vector search over every chunk, as the tasks score their versions; the stock model's figures
are the collection's stored vectors. Runs in the benchmark database (finassist_bench), loading Ask
CFPB when it is missing.
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from common import django_setup, use_database, write_result

use_database("finassist_bench")
django_setup()

from tuned_retrieval import COLLECTIONS, loaded, split_queries  # noqa: E402

from assistant.core.encoder import Embedder, encoder  # noqa: E402
from assistant.knowledge import reranking, tuning  # noqa: E402
from assistant.knowledge.evaluation import Query  # noqa: E402
from assistant.knowledge.models import Collection  # noqa: E402
from assistant.knowledge.reranking import reranked_metrics  # noqa: E402
from assistant.knowledge.tuning import Passages, held_out, question_pairs, retrieval_metrics  # noqa: E402
from assistant.training.config import TrainingConfig  # noqa: E402
from assistant.training.contrastive import Pair, contrastive_fit  # noqa: E402
from assistant.training.crossencoder import CrossEncoder, cross_encoder_fit  # noqa: E402

DATASET = "ask_cfpb"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
MIN_WORDS = 6
WHOLE_CHUNK_SHARE = 0.1
ARMS = ("questions", "cloze", "reranker", "curve")
CURVE = (45, 90, 180, 360)


def cloze_pairs(passages: Passages, rng: random.Random) -> list[Pair]:
    """One (sentence, rest of its chunk) pair from each chunk of two or more sentences."""
    pairs = []
    for heading, text in zip(passages.headings, passages.texts, strict=True):
        body = text.split("\n", 1)[-1]
        sentences = [s for s in SENTENCE_END.split(body) if len(s.split()) >= MIN_WORDS]
        if len(sentences) < 2:
            continue
        sentence = rng.choice(sentences)
        rest = body if rng.random() < WHOLE_CHUNK_SHARE else " ".join(body.replace(sentence, " ").split())
        pairs.append(Pair(sentence, f"{heading}\n{rest}"))
    return pairs


def quiet(_: Any) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    args = parser.parse_args()
    loaded(DATASET)
    questions = split_queries(DATASET, "validation")
    train = [q for q in questions if not held_out(q.text)]
    scored = [q for q in questions if held_out(q.text)]
    collection = Collection.objects.get(name=COLLECTIONS[DATASET])
    passages = Passages.of([collection])
    stock = encoder(collection.embedding_model)
    scored_vectors = stock.embed([q.text for q in scored])
    rng = random.Random(42)
    train_vectors = stock.embed([q.text for q in train])
    asked = question_pairs(train, train_vectors, passages, rng)
    validation_pairs = question_pairs(scored, scored_vectors, passages, rng)
    results: dict[str, Any] = {
        "split": {"trained": len(train), "scored": len(scored)},
        "stock": retrieval_metrics(scored, scored_vectors, passages.vectors, passages),
    }
    print(f"stock: {results['stock']}", flush=True)
    arms = {"questions": (asked, 3), "cloze": ([*asked, *cloze_pairs(passages, rng)], 1)}

    def fitted_scores(pairs: list[Pair], epochs: int, queries: list[Query]) -> dict[str, Any]:
        """The retriever trained on `pairs` for `epochs`, scored on `queries`."""
        config = TrainingConfig.build(
            {"epochs": epochs}, defaults={**tuning.DEFAULTS, "base_model": stock.name}
        )
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            fitted = contrastive_fit(
                pairs, validation_pairs, config, Path(folder), on_progress=quiet, should_stop=lambda: False
            )
            seconds = round(time.perf_counter() - started, 1)
            tuned = Embedder(folder)
        return {
            "pairs": len(pairs),
            "epochs": epochs,
            "fit_s": seconds,
            **retrieval_metrics(
                queries, tuned.embed([q.text for q in queries]), tuned.embed(passages.texts), passages
            ),
            "validation_loss": [h["validation_loss"] for h in fitted.history if "validation_loss" in h],
        }

    for arm in (a for a in args.arms if a in arms):
        pairs, epochs = arms[arm]
        results[arm] = fitted_scores(pairs, epochs, scored)
        print(f"{arm}: {results[arm]}", flush=True)
    if "curve" in args.arms:
        test = split_queries(DATASET, "test")
        curve: dict[str, Any] = {
            "stock": retrieval_metrics(test, stock.embed([q.text for q in test]), passages.vectors, passages)
        }
        shuffled = rng.sample(asked, len(asked))
        for size in CURVE:
            curve[str(size)] = fitted_scores(shuffled[:size], 3, test)
            print(f"curve, {size} questions: {curve[str(size)]}", flush=True)
        results["curve"] = {"scored": len(test), **curve}
    if "reranker" in args.arms:
        config = TrainingConfig.build({}, defaults={**reranking.DEFAULTS, "base_model": stock.name})
        groups = reranking.training_groups(train, train_vectors, passages, rng)
        validation_groups = reranking.training_groups(scored, scored_vectors, passages, rng)
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            fitted = cross_encoder_fit(
                groups, validation_groups, config, Path(folder), on_progress=quiet, should_stop=lambda: False
            )
            seconds = round(time.perf_counter() - started, 1)
            scorer = CrossEncoder(Path(folder), max_tokens=config.max_tokens)
        depths = {}
        for depth in (10, 20):
            _, depths[str(depth)] = reranked_metrics(scored, scored_vectors, passages, scorer, depth=depth)
        results["reranker"] = {
            "config": {
                name: getattr(config, name)
                for name in ("learning_rate", "head_learning_rate", "epochs", "max_tokens")
            },
            "negatives": reranking.NEGATIVES,
            "fit_s": seconds,
            "validation_loss": [h["validation_loss"] for h in fitted.history if "validation_loss" in h],
            "depths": depths,
        }
        print(f"reranker: {results['reranker']}", flush=True)
    write_result("retrieval_levers", results)


if __name__ == "__main__":
    main()

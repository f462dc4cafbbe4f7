"""Chatbot: per-turn latency (intent model + retrieval + extractive answer, or a handoff, or a
clarifying question), as a customer's message takes it.

    .venv/bin/python bench/chat.py [--turns 300] [--warmup 20]

Runs in its own database (finassist_bench). Makes what a turn needs when it is not there:
the demo FAQ collection, Ask CFPB from the datasets folder (when present), and an active
`chat-intent` version (trained here, LoRA on Banking77, a few minutes on this machine).
Customer messages are Banking77 texts the intent model did not train on (its held-out
split), drawn with a fixed seed (the project's own sample without the datasets), five to a
conversation, so that later turns carry earlier ones into
the retrieval query. Every turn is timed through `turn_start` and its stream, storing
included: p50/p95 overall, per kind of reply and per stage.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from collections import Counter

from common import django_setup, summary_ms, use_database, write_result

use_database("finassist_bench")
django_setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from assistant.chat.intents import SAMPLE  # noqa: E402
from assistant.chat.selectors import ChatCustomer, chat_collections  # noqa: E402
from assistant.chat.services import conversation_start, turn_start  # noqa: E402
from assistant.knowledge.datasets import DATASETS  # noqa: E402
from assistant.knowledge.demo import DEMO_DATA  # noqa: E402
from assistant.knowledge.models import Collection, DocumentStatus  # noqa: E402
from assistant.knowledge.services.indexing import documents_index  # noqa: E402
from assistant.knowledge.services.lexicon import lexicon_refresh  # noqa: E402
from assistant.knowledge.services.submission import collection_get_or_create, files_submit  # noqa: E402
from assistant.training.data import split_of  # noqa: E402

PER_CONVERSATION = 5


def _prepare() -> None:
    call_command("migrate", verbosity=0)
    faq = collection_get_or_create(name="faq", description="Customer-service questions and answers (demo)")
    files = [(path.name, path.read_bytes()) for path in sorted((DEMO_DATA / "faq").iterdir())]
    report = files_submit(collection=faq, files=files, enqueue=False)
    documents_index([s.document.pk for s in report.submitted if s.changed])
    lexicon_refresh()
    cfpb = DATASETS["ask_cfpb"]
    present = all((settings.DATASETS_DIR / cfpb.folder / name).is_file() for name in cfpb.required)
    ready = Collection.objects.filter(name=cfpb.collection, documents__status=DocumentStatus.READY).exists()
    if present and not ready:
        call_command("load_dataset", "ask_cfpb")
    call_command("train", "chat-intent", "--unless-active", "--activate", "always")


def _messages(count: int) -> list[str]:
    """Messages the intent model did not train on (its held-out split), in a fixed order."""
    path = settings.DATASETS_DIR / "banking77" / "train.csv"
    with (path if path.is_file() else SAMPLE).open() as handle:
        texts = [row["text"] for row in csv.DictReader(handle) if split_of(row["text"]) != "train"]
    return random.Random(7).sample(texts, min(count, len(texts)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    options = parser.parse_args()
    _prepare()
    messages = _messages(options.turns + options.warmup)
    customer = ChatCustomer(user_id=None, session_key="bench-chat")
    samples: list[dict] = []
    conversation = None
    for index, text in enumerate(messages):
        if index % PER_CONVERSATION == 0:
            conversation = conversation_start(customer=customer)
        started = time.perf_counter()
        replying = turn_start(conversation=conversation, text=text)
        for _ in replying.stream():
            pass
        wall = time.perf_counter() - started
        if index >= options.warmup:
            samples.append({"kind": replying.message.kind, "wall": wall, **replying.timings})
    kinds = Counter(s["kind"] for s in samples)
    result = {
        "turns": len(samples),
        "collections": chat_collections(),
        "kinds": dict(kinds),
        "end_to_end": summary_ms([s["wall"] for s in samples]),
        "by_kind": {kind: summary_ms([s["wall"] for s in samples if s["kind"] == kind]) for kind in kinds},
        "stages_ms": {
            stage: summary_ms([s[stage] / 1000 for s in samples if stage in s])
            for stage in ("intent", "retrieve", "generate")
        },
    }
    write_result("chat", {"turn_latency": result})


if __name__ == "__main__":
    main()

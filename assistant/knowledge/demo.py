"""The demo knowledge base: fictional product sheets, research notes and customer FAQs."""

from pathlib import Path

from assistant.core import roles
from assistant.core.demo import demo_loader
from assistant.core.errors import ApplicationError
from assistant.knowledge.services.indexing import documents_index
from assistant.knowledge.services.lexicon import lexicon_refresh
from assistant.knowledge.services.submission import collection_get_or_create, files_submit

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"

COLLECTIONS = {
    "products": ("Product sheets of the funds advisors recommend (demo)", (roles.ADVISOR,)),
    "research": ("Market research notes for advisors (demo)", (roles.ADVISOR,)),
    "faq": ("Customer-service questions and answers (demo)", (roles.ADVISOR,)),
}


@demo_loader("knowledge")
def load() -> str:
    changed = []
    documents = 0
    for name, (description, groups) in COLLECTIONS.items():
        collection = collection_get_or_create(name=name, description=description, reader_groups=groups)
        files = [(path.name, path.read_bytes()) for path in sorted((DEMO_DATA / name).iterdir())]
        report = files_submit(collection=collection, files=files, enqueue=False)
        if report.rejected:
            raise ApplicationError(f"demo knowledge rejected: {'; '.join(map(str, report.rejected))}")
        documents += len(report.submitted)
        changed += [submission.document.pk for submission in report.submitted if submission.changed]
    indexed = documents_index(changed)
    if indexed.failed:
        raise ApplicationError(f"demo knowledge failed to index: {indexed.failed}")
    lexicon_refresh()
    return f"{documents} documents in {', '.join(COLLECTIONS)} ({indexed.chunks} chunks newly indexed)"

"""The demo knowledge base: fictional product sheets, research notes and customer FAQs, in English
and (product sheets and FAQs) in Chinese."""

from dataclasses import dataclass
from pathlib import Path

from assistant.core import roles
from assistant.core.demo import demo_loader
from assistant.core.e5 import MULTILINGUAL_MODEL
from assistant.core.errors import ApplicationError
from assistant.knowledge.services.indexing import documents_index
from assistant.knowledge.services.lexicon import lexicon_refresh
from assistant.knowledge.services.submission import collection_get_or_create, files_submit

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"


@dataclass(frozen=True)
class DemoCollection:
    description: str
    readers: tuple[str, ...]
    folder: str
    embedding_model: str = ""


COLLECTIONS = {
    "products": DemoCollection(
        "Product sheets of the funds advisors recommend (demo)", (roles.ADVISOR,), "products"
    ),
    "research": DemoCollection("Market research notes for advisors (demo)", (roles.ADVISOR,), "research"),
    "faq": DemoCollection("Customer-service questions and answers (demo)", (roles.ADVISOR,), "faq"),
    # The same bank in Chinese, on the multilingual model, which reads questions in either language.
    "products-zh": DemoCollection(
        "产品说明书 (demo, Chinese)", (roles.ADVISOR,), "zh/products", MULTILINGUAL_MODEL
    ),
    "faq-zh": DemoCollection("客户常见问题 (demo, Chinese)", (roles.ADVISOR,), "zh/faq", MULTILINGUAL_MODEL),
}


@demo_loader("knowledge")
def load() -> str:
    changed = []
    documents = 0
    for name, demo in COLLECTIONS.items():
        collection = collection_get_or_create(
            name=name,
            description=demo.description,
            reader_groups=demo.readers,
            embedding_model=demo.embedding_model,
        )
        files = [(path.name, path.read_bytes()) for path in sorted((DEMO_DATA / demo.folder).iterdir())]
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

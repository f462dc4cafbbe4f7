"""What every generation backend is given and what it gives back."""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.conf import settings

from assistant.core.errors import ApplicationError
from assistant.core.privacy import Masker
from assistant.generation.subjects import subject_warnings
from assistant.generation.text import ungrounded_numbers

if TYPE_CHECKING:
    from assistant.knowledge.search import SearchResult


class GenerationUnavailable(ApplicationError):
    """The configured answer backend cannot answer now (server down, model missing)."""

    status = 503


@dataclass(frozen=True)
class Passage:
    """A retrieved passage, cited in answers as [number]."""

    number: int
    text: str
    title: str
    page: int | None = None
    heading: str = ""
    similarity: float | None = None
    # What the passage is about (see `subjects`); its title when empty.
    subject: str = ""

    @property
    def source(self) -> str:
        where = f", page {self.page + 1}" if self.page is not None else ""
        return f"{self.title}{where}"


@dataclass(frozen=True)
class Fact:
    """One client field the question needs, as sent to the answer backend."""

    field: str
    label: str
    value: str


NO_ANSWER = "The knowledge base does not answer this question."
# What the extractive backend says instead when the question is Chinese.
NO_ANSWER_ZH = "知识库中没有回答这个问题的内容。"
INSTRUCTION = (
    "You assist investment advisors. Answer the question only from the numbered sources and "
    "the client fields below. Cite every statement with the number of its source in square "
    "brackets, like [1]. If the sources do not answer the question, say: " + NO_ANSWER
)


@dataclass(frozen=True)
class Prompt:
    question: str
    passages: Sequence[Passage]
    facts: Sequence[Fact] = ()
    instruction: str = INSTRUCTION  # the system message: whom the model assists, and how to cite


def prompt_text(prompt: Prompt) -> str:
    """The user message a language model receives: numbered sources, client fields, question."""
    sources = "\n\n".join(
        f"[{p.number}] {p.source}{f' ({p.heading})' if p.heading else ''}\n{p.text}" for p in prompt.passages
    )
    parts = [f"Sources:\n{sources or '(none)'}"]
    if prompt.facts:
        parts.append("Client fields:\n" + "\n".join(f"- {f.label}: {f.value}" for f in prompt.facts))
    parts.append(f"Question: {prompt.question}")
    return "\n\n".join(parts)


def cited_numbers(text: str) -> set[int]:
    """The passage numbers an answer cites."""
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def grounding(text: str, prompt: Prompt) -> list[dict[str, object]]:
    """What in the answer its sources do not bear out, each with where it is and the reason: numbers
    found neither in the passages it cites (all, if it cites none) nor in the client fields it was
    given, and citations of passages about something other than what the question names."""
    cited = cited_numbers(text)
    passages = [p for p in prompt.passages if p.number in cited] or list(prompt.passages)
    numbers = ungrounded_numbers(text, [p.text for p in passages] + [f.value for f in prompt.facts])
    marks = [{**number, "reason": "not found in the cited text"} for number in numbers] + subject_warnings(
        text, prompt
    )
    return sorted(marks, key=lambda mark: int(str(mark["start"])))


def feedback_checked(rating: object, comment: str) -> tuple[int, str]:
    """The rating (1 or -1, given as a number or a form's text) and comment to store with an answer."""
    try:
        value = int(str(rating))
    except ValueError:
        value = 0
    if value not in (1, -1):
        raise ApplicationError("rating must be 1 (helpful) or -1 (not helpful)", field="rating")
    if len(comment) > 2000:
        raise ApplicationError("the comment is longer than 2000 characters", field="comment")
    return value, comment.strip()


def passages_of(results: Sequence[SearchResult], *, first: int = 1) -> list[Passage]:
    """Search results as passages numbered from `first`."""
    return [
        Passage(n, r.text, r.title, page=r.page, heading=r.heading, similarity=r.parts.vector_similarity)
        for n, r in enumerate(results, start=first)
    ]


def citations_of(results: Sequence[SearchResult], *, first: int = 1) -> list[dict[str, object]]:
    """Search results as the citations stored with an answer, numbered like `passages_of`."""
    return [
        {
            "number": n,
            "chunk_id": r.chunk_id,
            "document_id": r.document_id,
            "collection": r.collection,
            "external_id": r.external_id,
            "title": r.title,
            "version": r.version,
            "page": r.page,
            "text": r.text,
            "score": round(r.score, 6),
            "similarity": r.parts.vector_similarity,
        }
        for n, r in enumerate(results, start=first)
    ]


class Backend(Protocol):
    """An answer backend: `extractive`, `openai` or `transformers` (FINASSIST_GENERATION_BACKEND)."""

    @property
    def name(self) -> str: ...

    @property
    def model_name(self) -> str: ...

    def stream(self, prompt: Prompt, *, masker: Masker | None = None) -> Generator[str, None, None]:
        """The answer, piece by piece; raises GenerationUnavailable when it cannot answer.

        A backend that sends the prompt off this machine masks it with `masker` (which
        knows the client's identifiers) and unmasks what comes back.
        """


@dataclass(frozen=True)
class Completion:
    """A whole reply to chat messages, with what it cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    # The model's probability of the reply it gave (greedy decoding), where the backend says it.
    probability: float | None = None


class Completer(Protocol):
    """A generative backend that answers chat messages whole (`openai`, `transformers`): what
    in-context learning prompts. The extractive backend composes answers; it cannot complete."""

    @property
    def model_name(self) -> str: ...

    def complete(self, messages: Sequence[dict[str, str]], *, max_tokens: int) -> Completion: ...


def generated(backend: Backend, prompt: Prompt, *, masker: Masker | None = None) -> Iterator[str]:
    """The backend's answer piece by piece, stopped with GenerationUnavailable once it has taken
    FINASSIST_GENERATION_MAX_SECONDS. Each backend waits at most FINASSIST_GENERATION_TIMEOUT for a
    piece, so no call outlives the two together."""
    limit = settings.GENERATION_MAX_SECONDS
    deadline = time.monotonic() + limit
    with closing(backend.stream(prompt, masker=masker)) as pieces:
        for piece in pieces:
            if time.monotonic() > deadline:
                raise GenerationUnavailable(
                    f"the answer took longer than {limit:g} s (FINASSIST_GENERATION_MAX_SECONDS) "
                    "and stopped there"
                )
            yield piece


def completed(backend: Backend, prompt: Prompt, *, masker: Masker | None = None) -> str:
    """The backend's whole answer, bounded like `generated`."""
    return "".join(generated(backend, prompt, masker=masker)).strip()

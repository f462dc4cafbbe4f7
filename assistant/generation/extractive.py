"""The offline backend: the answer is the retrieved sentences that best answer the question.

It invents nothing: every sentence is copied from a passage and cited, client fields are
quoted from the client record, and when the best passage is below the relevance threshold
the answer says the knowledge base does not answer the question.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass

from django.conf import settings

from assistant.core.privacy import Masker
from assistant.generation.base import NO_ANSWER, Passage, Prompt
from assistant.generation.text import sentences, terms

MAX_SENTENCES = 4
MAX_CHARS = 900
# A sentence joins the answer when it scores at least this share of the best sentence.
KEEP_SHARE = 0.5


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    position: int
    text: str
    score: float


def _candidates(prompt: Prompt) -> list[_Candidate]:
    asked = set(terms(prompt.question))
    split = [(p, i, s, set(terms(s))) for p in prompt.passages for i, s in enumerate(sentences(p.text))]
    frequency = Counter(t for *_, words in split for t in words & asked)
    weight = {t: math.log(1 + len(split) / (1 + frequency[t])) for t in asked}
    total = sum(weight.values()) or 1.0
    rank = {p.number: i for i, p in enumerate(prompt.passages)}
    found = []
    for passage, position, text, words in split:
        covered = sum(weight[t] for t in words & asked) / total
        if covered > 0:
            prior = 0.1 / (1 + rank[passage.number])
            found.append(_Candidate(passage, position, text, covered + prior))
    return found


def _chosen(prompt: Prompt) -> list[_Candidate]:
    ranked = sorted(_candidates(prompt), key=lambda c: -c.score)
    if not ranked:
        best = prompt.passages[0]
        return [_Candidate(best, i, s, 0.0) for i, s in enumerate(sentences(best.text)[:2])]
    chosen: list[_Candidate] = []
    length = 0
    for candidate in ranked:
        if len(chosen) == MAX_SENTENCES or candidate.score < KEEP_SHARE * ranked[0].score:
            break
        if length + len(candidate.text) > MAX_CHARS and chosen:
            continue
        chosen.append(candidate)
        length += len(candidate.text)
    order = {p.number: i for i, p in enumerate(prompt.passages)}
    return sorted(chosen, key=lambda c: (order[c.passage.number], c.position))


class Extractive:
    name = "extractive"
    model_name = "extractive-v1"

    def stream(self, prompt: Prompt, *, masker: Masker | None = None) -> Generator[str, None, None]:
        if prompt.facts:
            fields = "; ".join(f"{f.label}: {f.value.rstrip('.')}" for f in prompt.facts)
            yield f"From the client record: {fields}.\n\n"
        best = max((p.similarity or 0.0 for p in prompt.passages), default=0.0)
        if not prompt.passages or best < settings.GENERATION_MIN_RELEVANCE:
            yield NO_ANSWER
            return
        for candidate in _chosen(prompt):
            yield f"{candidate.text} [{candidate.passage.number}] "

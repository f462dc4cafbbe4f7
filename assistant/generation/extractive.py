"""The offline backend: the answer is the retrieved sentences that best answer the question.

It invents nothing: every sentence is copied from a passage and cited, client fields are
quoted from the client record, and when the best passage is below the relevance threshold
the answer says the knowledge base does not answer the question. Sentences come only from
passages about what the question names (`subjects`); when it names nothing, or several
things, each sentence stands under the name of what it is about. A Chinese question is answered
in Chinese wording: Chinese sentences run on without spaces, and the labels and the no-answer
message are Chinese.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Generator, Sequence
from dataclasses import dataclass

from django.conf import settings

from assistant.core.language import Language, detect
from assistant.core.privacy import Masker
from assistant.generation.base import NO_ANSWER, NO_ANSWER_ZH, Passage, Prompt
from assistant.generation.subjects import CLIENT, Subjects, subject_of, subjects_of
from assistant.generation.text import joined, roots, sentences

MAX_SENTENCES = 4
MAX_CHARS = 900
# A sentence joins the answer when it scores at least this share of the best sentence.
KEEP_SHARE = 0.5
# What a question's word in a passage's heading (and not in the sentence) counts for a sentence.
HEADING_SHARE = 0.5


@dataclass(frozen=True)
class _Wording:
    """What the answer says in its own words, in the question's language."""

    no_answer: str
    client: str  # the label of sentences about the client
    record: str  # what leads the client's fields
    colon: str  # after a label
    separator: str  # between client fields
    stop: str


_WORDING: dict[Language, _Wording] = {
    "en": _Wording(NO_ANSWER, "The client", "From the client record", ": ", "; ", "."),
    "zh": _Wording(NO_ANSWER_ZH, "客户", "客户档案", "：", "；", "。"),
}


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    position: int
    text: str
    score: float


def _candidates(prompt: Prompt, subjects: Subjects) -> list[_Candidate]:
    """Sentences of the passages about the subjects asked, scored by the question's other words they
    hold (a word of the passage's heading counts half)."""
    asked = roots(prompt.question)
    asked = asked - subjects.words or asked
    split = [
        (p, i, s, roots(s), roots(p.heading))
        for p in prompt.passages
        if subjects.allows(p)
        for i, s in enumerate(sentences(p.text))
    ]
    frequency = Counter(t for *_, words, _ in split for t in words & asked)
    weight = {t: math.log(1 + len(split) / (1 + frequency[t])) for t in asked}
    total = sum(weight.values()) or 1.0
    rank = {p.number: i for i, p in enumerate(prompt.passages)}
    found = []
    for passage, position, text, words, heading in split:
        covered = sum(weight[t] for t in words & asked) + HEADING_SHARE * sum(
            weight[t] for t in (heading - words) & asked
        )
        if covered > 0:
            prior = 0.1 / (1 + rank[passage.number])
            found.append(_Candidate(passage, position, text, covered / total + prior))
    return found


def _chosen(prompt: Prompt, subjects: Subjects) -> list[_Candidate]:
    ranked = sorted(_candidates(prompt, subjects), key=lambda c: -c.score)
    if not ranked:
        # Nothing shares a word with the question: the best passage's opening, but never a letter's.
        best = next((p for p in prompt.passages if subjects.allows(p) and subject_of(p) != CLIENT), None)
        return (
            []
            if best is None
            else [_Candidate(best, i, s, 0.0) for i, s in enumerate(sentences(best.text)[:2])]
        )
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


def _cited(candidate: _Candidate) -> str:
    """The sentence with its citation: after a space in English, right after the stop in Chinese."""
    gap = "" if detect(candidate.text) == "zh" else " "
    return f"{candidate.text}{gap}[{candidate.passage.number}]"


def _composed(chosen: Sequence[_Candidate], *, label: bool, wording: _Wording) -> str:
    """The sentences, each cited; labelled, they go in one paragraph a subject, led by its name."""
    groups: dict[str, list[str]] = {}
    for candidate in chosen:
        groups.setdefault(subject_of(candidate.passage), []).append(_cited(candidate))
    if not label:
        return joined([sentence for group in groups.values() for sentence in group])
    return "\n\n".join(
        f"{_label(subject, wording)}{wording.colon}{joined(group)}" for subject, group in groups.items()
    )


def _label(subject: str, wording: _Wording) -> str:
    return wording.client if subject == CLIENT else subject.rstrip(".:?!。：？！")


class Extractive:
    name = "extractive"
    model_name = "extractive-v2"

    def stream(self, prompt: Prompt, *, masker: Masker | None = None) -> Generator[str, None, None]:
        wording = _WORDING[detect(prompt.question)]
        if prompt.facts:
            fields = wording.separator.join(f"{f.label}: {f.value.rstrip('.')}" for f in prompt.facts)
            yield f"{wording.record}{wording.colon}{fields}{wording.stop}\n\n"
        subjects = subjects_of(prompt)
        allowed = [p for p in prompt.passages if subjects.allows(p)]
        best = max((p.similarity or 0.0 for p in allowed), default=0.0)
        # The client's own letters answer a question about the client however loosely they match it.
        if best < settings.GENERATION_MIN_RELEVANCE and not any(subject_of(p) == CLIENT for p in allowed):
            yield wording.no_answer
            return
        chosen = _chosen(prompt, subjects)
        if not chosen and not prompt.facts:
            yield wording.no_answer
            return
        covered = {subject_of(candidate.passage) for candidate in chosen}
        yield _composed(chosen, label=not subjects.named or len(covered) > 1, wording=wording)

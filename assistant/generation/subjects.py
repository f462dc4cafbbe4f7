"""What each passage is about, and which of those subjects a question names.

A passage's subject is its document's title (a fund's sheet, a company's filing, an FAQ entry,
an advisory), unless it says otherwise: a client's letter is about the client the question is
asked about, always in scope. A question names a subject when it uses a word of the subject's
title that no other subject among the passages has ("bond" of "Northbridge Short Duration Bond
Fund" beside "Northbridge Global Equity Index Fund"), or one it shares while using more of its
title than of any other subject's with that word ("the equity fund" beside a research note on
"Equity market concentration"). Words that name a kind of thing ("fund", "portfolio",
"company", "基金") name nothing by themselves. Titles and questions are compared by their words
(`text.roots`), jieba's where they are Chinese: "稳健债券基金的管理费是多少" names
"稳健债券基金产品说明". Answers keep to the subjects named: a sentence of a passage about another
subject is not used for them, and an answer that cites one is warned about (`subject_warnings`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.generation.text import roots


class Passage(Protocol):
    """What a subject is read from (`base.Passage` has it; typed here so that `base` can use this)."""

    @property
    def number(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def subject(self) -> str: ...


class Prompt(Protocol):
    @property
    def question(self) -> str: ...
    @property
    def passages(self) -> Sequence[Passage]: ...


CLIENT = "the client"
"""The subject of the passages about the client in scope (letters): named by every question."""
CLIENT_WORDS = frozenset(roots("client 客户"))

# Words of titles that say what kind of thing is named, not which one, and the words of the
# questions that FAQ entries are titled by ("How long does a transfer take?" names transfers).
KINDS = frozenset(
    roots(
        "fund funds portfolio portfolios company companies bank group holdings inc corp corporation plc "
        "ltd limited llc trust account accounts product products policy policies plan plans report annual "
        "quarterly form 10-k 10-q 8-k advisory alert guide guidance notice sheet fact factsheet faq "
        "long take much many often get need want work way make happen know "
        "基金 产品 说明 说明书 公司 集团 银行 组合 账户 计划 政策 报告 年报 季报 年度报告 公告 "
        "指南 通知 提示 常见问题 问题 需要 多久 多长时间 时间"
    )
)
_CITATION = re.compile(r"\[(\d+)\]")


def subject_of(passage: Passage) -> str:
    return passage.subject or passage.title


@dataclass(frozen=True)
class Subjects:
    """The subjects of a prompt's passages, and those its question names (none: any may answer)."""

    named: frozenset[str]
    words: frozenset[str]  # the question's words that are words of their titles

    def allows(self, passage: Passage) -> bool:
        subject = subject_of(passage)
        return not self.named or subject == CLIENT or subject in self.named


def subjects_of(prompt: Prompt) -> Subjects:
    titles = {subject: roots(subject) for subject in map(subject_of, prompt.passages) if subject != CLIENT}
    asked = roots(prompt.question)
    overlap = {subject: len(words & asked) for subject, words in titles.items()}
    named: set[str] = set()
    for subject, words in titles.items():
        used = (words - KINDS) & asked
        rivals = [other for other, theirs in titles.items() if other != subject and used & theirs]
        if used and (len(rivals) == 0 or all(overlap[subject] > overlap[other] for other in rivals)):
            named.add(subject)
    words = set().union(*(titles[subject] for subject in named)) & asked
    if any(subject_of(passage) == CLIENT for passage in prompt.passages):
        words |= CLIENT_WORDS & asked
    return Subjects(frozenset(named), frozenset(words))


def subject_warnings(text: str, prompt: Prompt) -> list[dict[str, object]]:
    """Each citation in `text` of a passage about a subject the question does not name, when it
    names one: where it is and why it is suspect."""
    subjects = subjects_of(prompt)
    passages = {passage.number: passage for passage in prompt.passages}
    found: list[dict[str, object]] = []
    for match in _CITATION.finditer(text):
        passage = passages.get(int(match.group(1)))
        if passage is None or subjects.allows(passage):
            continue
        asked = " and ".join(sorted(subjects.named))
        found.append(
            {
                "start": match.start(),
                "end": match.end(),
                "text": match.group(),
                "reason": f"the passage is about {subject_of(passage)}; the question asks about {asked}",
            }
        )
    return found


def labelled(groups: Sequence[tuple[str, str]]) -> str:
    """(subject, its sentences) as one paragraph a subject, each led by the subject's name."""
    return "\n\n".join(f"{subject}: {text}" for subject, text in groups)

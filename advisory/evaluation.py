"""Answer-level evaluation: does an advisor's answer state what it must and nothing it must not?

A case is a question asked as an advisor would ask it (scope, collections, client) with the
facts the answer must contain (`expect`) and those it must never contain (`forbid`: another
product's figure, another client's detail). Matching is by text, ignoring case and runs of
spaces. The answers are composed by the configured backend (or the one named) through the
same path as the pages and the API, inside a transaction that is rolled back: an evaluation
stores nothing. A question without a client is asked by a throwaway advisor, who reads what
advisors read; a client's question by the client's own advisor.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction

from advisory.models import Answer, Client
from advisory.services import answer_create
from assistant.core import roles
from assistant.core.errors import ApplicationError

CASES = Path(__file__).resolve().parent / "data" / "answer-cases.jsonl"
_FIELDS = {"question", "scope", "collections", "client", "expect", "forbid", "note"}


@dataclass(frozen=True)
class AnswerCase:
    line: int
    question: str
    scope: str
    collections: tuple[str, ...] | None
    client: str | None
    expect: tuple[str, ...]
    forbid: tuple[str, ...]


@dataclass
class CaseResult:
    line: int
    question: str
    answer: str
    missing: list[str]
    forbidden: list[str]
    expect: int
    forbid: int

    @property
    def passed(self) -> bool:
        return not self.missing and not self.forbidden


@dataclass
class AnswersReport:
    backend: str
    cases: list[CaseResult] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        expect = sum(case.expect for case in self.cases)
        forbid = sum(case.forbid for case in self.cases)
        return {
            "backend": self.backend,
            "cases": len(self.cases),
            "passed": sum(case.passed for case in self.cases),
            "pass_rate": _rate(sum(case.passed for case in self.cases), len(self.cases)),
            "expect_checks": expect,
            "expect_rate": _rate(expect - sum(len(case.missing) for case in self.cases), expect),
            "forbid_checks": forbid,
            "forbid_rate": _rate(forbid - sum(len(case.forbidden) for case in self.cases), forbid),
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary(), "results": [{**asdict(case), "passed": case.passed} for case in self.cases]}


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


def _strings(row: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ApplicationError(f"{where}: {key!r} must be a list of non-empty strings", field=key)
    return tuple(value)


def answer_cases(path: Path) -> list[AnswerCase]:
    """The cases of a JSONL file; a bad line is an error naming the line and the field."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ApplicationError(f"{path}: cannot be read ({error})") from error
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name}, line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ApplicationError(f"{where}: not JSON ({error.msg})") from error
        if not isinstance(row, dict):
            raise ApplicationError(f"{where}: expected an object")
        unknown = sorted(set(row) - _FIELDS)
        if unknown:
            raise ApplicationError(f"{where}: unknown field(s) {', '.join(unknown)}", field=unknown[0])
        question = row.get("question")
        if not isinstance(question, str) or not question.strip():
            raise ApplicationError(f"{where}: 'question' must be a non-empty string", field="question")
        scope = row.get("scope", Answer.Scope.KNOWLEDGE)
        if scope not in Answer.Scope.values:
            raise ApplicationError(
                f"{where}: 'scope' must be one of {', '.join(Answer.Scope.values)}", field="scope"
            )
        client = row.get("client")
        if scope != Answer.Scope.KNOWLEDGE and not (isinstance(client, str) and client):
            raise ApplicationError(
                f"{where}: a {scope} question needs 'client' (a client number)", field="client"
            )
        collections = row.get("collections")
        if collections is not None:
            collections = _strings(row, "collections", where)
        expect, forbid = _strings(row, "expect", where), _strings(row, "forbid", where)
        if not expect and not forbid:
            raise ApplicationError(f"{where}: a case needs 'expect' or 'forbid' facts", field="expect")
        cases.append(AnswerCase(number, question, scope, collections, client, expect, forbid))
    if not cases:
        raise ApplicationError(f"{path}: no cases")
    return cases


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _asker(
    case: AnswerCase, clients: dict[str, Client], advisor: User | None, anyone: User
) -> tuple[User, Client | None]:
    """Who asks the case, and about which client: `advisor` if given, else the client's own
    advisor, or `anyone` for a question without a client."""
    if case.client is None:
        return anyone, None
    client = clients.get(case.client)
    if client is None:
        raise ApplicationError(f"line {case.line}: no client {case.client!r}", field="client")
    return advisor or client.advisor, client


def _throwaway_advisor() -> User:
    user, _ = User.objects.get_or_create(username="answer-evaluation")
    user.groups.add(Group.objects.get(name=roles.ADVISOR))
    return user


def _asked(cases: Sequence[AnswerCase], backend: str, advisor: User | None) -> Iterator[CaseResult]:
    named = {c.client for c in cases if c.client}
    clients = {c.reference: c for c in Client.objects.filter(reference__in=named).select_related("advisor")}
    anyone = advisor or _throwaway_advisor()
    for case in cases:
        user, client = _asker(case, clients, advisor, anyone)
        try:
            answer = answer_create(
                advisor=user,
                question=case.question,
                scope=case.scope,
                client_id=client.pk if client else None,
                collections=case.collections,
                backend_name=backend,
            )
        except ApplicationError as error:
            raise ApplicationError(f"line {case.line}: {error.message}", field=error.field) from error
        text = _normal(answer.text)
        yield CaseResult(
            line=case.line,
            question=case.question,
            answer=answer.text,
            missing=[fact for fact in case.expect if _normal(fact) not in text],
            forbidden=[fact for fact in case.forbid if _normal(fact) in text],
            expect=len(case.expect),
            forbid=len(case.forbid),
        )


def answers_evaluate(
    cases: Sequence[AnswerCase], *, backend: str | None = None, advisor: User | None = None
) -> AnswersReport:
    """Ask every case and check its answer; nothing asked is kept."""
    report = AnswersReport(backend or settings.GENERATION_BACKEND)
    with transaction.atomic():
        report.cases = list(_asked(cases, report.backend, advisor))
        transaction.set_rollback(True)
    return report


# FinanceBench answer correctness ---------------------------------------------------------------
_FIGURE = re.compile(r"(?<![\w.])-?[$€£]?(\d[\d,]*(?:\.\d+)?)(%?)")
TOLERANCE = Decimal("0.01")


def figures(text: str) -> list[Decimal]:
    """The figures a text states, years (1900 to 2100 written plainly) left out."""
    found = []
    for match in _FIGURE.finditer(text):
        digits, percent = match.group(1).replace(",", ""), match.group(2)
        plain_year = (
            "." not in digits and not percent and "$" not in match.group() and 1900 <= int(digits) <= 2100
        )
        if not plain_year and digits.strip("0."):
            found.append(Decimal(digits))
    return found


def _half_unit(value: Decimal) -> Decimal:
    exponent = value.as_tuple().exponent
    return Decimal(5).scaleb((exponent if isinstance(exponent, int) else 0) - 1)


def _within_rounding(stated: Decimal, gold: Decimal) -> bool:
    for k in range(-3, 4):
        scaled = stated.scaleb(3 * k)
        allowed = max(_half_unit(gold), _half_unit(stated).scaleb(3 * k), abs(gold) * TOLERANCE)
        if abs(scaled - gold) <= allowed:
            return True
    return False


def figure_correct(answer: str, gold_answer: str) -> bool | None:
    """Whether the answer states one of the gold answer's figures within rounding (half a unit of
    the last digit of either, or 1 %), in any scale of a thousand ("$1577 million" is 1,577 in a table in
    millions); None when the gold answer states no figure. FinanceBench's paper allows for
    rounding this way."""
    gold = figures(gold_answer)
    if not gold:
        return None
    return any(_within_rounding(stated, expected) for stated in figures(answer) for expected in gold)

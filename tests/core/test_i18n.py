"""The pages in Simplified Chinese as well as English: the catalogue is complete and compiled, every
persona's main pages show no catalogue string left in English, and the switch in the header changes
the language and back."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.test import Client as WebClient
from django.urls import reverse
from django.utils import timezone

from advisory.models import Answer, Citation, Holding, Keyword, Letter
from advisory.models import Client as AdvisoryClient
from aml.models import Account, Alert, Case, Customer, Screening, Transaction
from assistant.chat.models import Conversation, Message, Ticket
from assistant.core import roles
from assistant.integrations.models import System
from claims.models import Claim, Decision, Policy, PolicyCheck, Triage

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdf]|\{\w+\}")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Entry:
    context: str | None
    msgid: str
    plural: str | None
    msgstrs: tuple[str, ...]
    flags: frozenset[str]


ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(line: str) -> str:
    return re.sub(r"\\(.)", lambda escaped: ESCAPES[escaped.group(1)], line.strip()[1:-1])


def po_entries(path: Path) -> list[Entry]:
    """The entries of a .po file, the header (msgid "") and obsolete ones (#~) left out."""
    entries: list[Entry] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        key = ""
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[key] += _unquote(line)
            else:
                key, _, value = line.partition(" ")
                fields[key] = _unquote(value)
        if fields.get("msgid"):
            msgstrs = tuple(value for name, value in sorted(fields.items()) if name.startswith("msgstr"))
            entries.append(
                Entry(
                    fields.get("msgctxt"),
                    fields["msgid"],
                    fields.get("msgid_plural"),
                    msgstrs,
                    frozenset(flags),
                )
            )
    return entries


ENTRIES = po_entries(CATALOGUE / "django.po")


def test_every_catalogue_string_has_a_chinese_translation_none_fuzzy() -> None:
    untranslated = [e.msgid for e in ENTRIES if not all(s.strip() for s in e.msgstrs)]
    fuzzy = [e.msgid for e in ENTRIES if "fuzzy" in e.flags]
    header = (CATALOGUE / "django.po").read_text(encoding="utf-8").split("\n\n")[0]

    assert len(ENTRIES) > 500
    assert untranslated == []
    assert fuzzy == []
    assert "#, fuzzy" not in header
    assert "Plural-Forms: nplurals=1; plural=0;" in header


def test_each_translation_keeps_the_placeholders_of_its_source() -> None:
    def placeholders(text: str) -> list[str]:
        return sorted(PLACEHOLDER.findall(text))

    changed = [
        (e.msgid, msgstr)
        for e in ENTRIES
        for msgstr in e.msgstrs
        if placeholders(msgstr) != placeholders(e.plural or e.msgid)
        or placeholders(e.msgid) != placeholders(e.plural or e.msgid)
    ]
    assert changed == []


def test_the_compiled_catalogue_is_the_catalogue() -> None:
    """The .mo kept in the repository (a machine without gettext serves from it) says what the .po
    says, entry for entry."""
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    expected: dict[object, str] = {}
    for e in ENTRIES:
        key = f"{e.context}\x04{e.msgid}" if e.context is not None else e.msgid
        if e.plural is None:
            expected[key] = e.msgstrs[0]
        else:
            expected |= {(key, index): msgstr for index, msgstr in enumerate(e.msgstrs)}
    assert {key: value for key, value in catalog.items() if key != ""} == expected


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_msgfmt_accepts_the_catalogue(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            "msgfmt",
            "--check",
            "--statistics",
            "-o",
            str(tmp_path / "django.mo"),
            str(CATALOGUE / "django.po"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr


# The pages --------------------------------------------------------------------------------------

# Inline elements: their text runs on with their neighbours' (other elements end a run of text).
INLINE = frozenset(
    {"a", "abbr", "b", "code", "em", "i", "label", "mark", "small", "span", "strong", "sub", "sup", "time"}
)
SHOWN_ATTRIBUTES = ("placeholder", "aria-label", "title", "data-request-failed", "data-connection-lost")
SKIPPED = frozenset({"script", "style"})


class VisibleText(HTMLParser):
    """A page's text as a reader meets it: runs of text between block boundaries, and the attributes
    a reader sees or hears (placeholders, labels, titles, the messages the scripts show)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[str] = [""]
        self.skipping = 0

    def _break(self) -> None:
        if self.runs[-1].strip():
            self.runs.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        if tag not in INLINE:
            self._break()
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value:
                self._break()
                self.runs += [value, ""]

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        if tag not in INLINE:
            self._break()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.runs[-1] += data


def visible_runs(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return [" ".join(run.split()) for run in parser.runs if run.strip()]


def _pattern(source: str) -> tuple[re.Pattern[str], bool] | None:
    """A catalogue string as it would read on a page left in English: its tags dropped, each
    placeholder any text. Whether it is looked for inside a run (three words or more) or as a whole
    run; None for a string too short to tell (3 letters or fewer besides its placeholders)."""
    text = " ".join(unescape(re.sub(r"<[^>]+>", "", source.replace("%%", "%"))).split())
    literal = PLACEHOLDER.sub("", text)
    if sum(c.isalpha() for c in literal) <= 3:
        return None
    pieces = PLACEHOLDER.split(text)
    body = r".+?".join(re.escape(piece) for piece in pieces)
    within = len(literal.split()) >= 3
    return re.compile(rf"(?<![\w]){body}(?![\w])" if within else rf"{body}"), within


PATTERNS = [
    (source, found)
    for e in ENTRIES
    for source in (e.msgid, e.plural)
    if source is not None and source not in e.msgstrs and (found := _pattern(source)) is not None
]


def untranslated(html: str, data: frozenset[str] = frozenset()) -> list[str]:
    """The catalogue strings the page shows in English; `data`, the runs that are data (a value the
    database holds) whatever they read like."""
    runs = [run for run in visible_runs(html) if run not in data]
    left = set()
    for source, (pattern, within) in PATTERNS:
        for run in runs:
            if (pattern.search(run) if within else pattern.fullmatch(run.rstrip(".:"))) is not None:
                left.add(source)
    return sorted(left)


@dataclass
class World:
    users: dict[str, User]
    pages: list[tuple[str, str, str]]  # (persona, address, a Chinese string the page shows)


# Data that reads like a catalogue string: the claims models' answers as the models name their labels.
DATA = frozenset({"specialist", "fast_track", "home"})


def _user(username: str, role: str | None = None, **flags: bool) -> User:
    user = User.objects.create(username=username, **flags)
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    return user


def _advisory(advisor: User) -> str:
    client = AdvisoryClient.objects.create(
        advisor=advisor,
        reference="ADV-1",
        full_name="Maria Keller",
        birth_year=1968,
        income_band="100k_250k",
        risk_tolerance="moderate",
        goals="Retire at 62.",
        horizon_years=6,
    )
    Holding.objects.create(
        client=client, instrument="Bond fund A", asset_class="bond", value=Decimal("140000")
    )
    Holding.objects.create(
        client=client, instrument="World equity", asset_class="equity", value=Decimal("60000")
    )
    letter = Letter.objects.create(
        client=client, written_on=date(2026, 3, 4), author="client", text="I plan to retire at 62."
    )
    Keyword.objects.create(letter=letter, category="goal", phrase="retire at 62", start=7, end=19, score=0.9)
    answer = Answer.objects.create(
        advisor=advisor,
        client=client,
        scope=Answer.Scope.CLIENT,
        question="Does the bond fund suit her?",
        text="It does [1].",
        status=Answer.Status.COMPLETE,
        rating=1,
        ungrounded=[{"start": 0, "end": 2, "text": "It", "reason": "number"}],
    )
    Citation.objects.create(answer=answer, number=1, title="Bond fund A", text="A fund.", score=1.0, page=0)
    return reverse("advisory:client", args=[client.pk])


def _claims(adjuster: User) -> tuple[str, str]:
    system = System.objects.create(name="claims-core")
    policy = Policy.objects.create(
        number="POL-1",
        holder_name="Holder",
        line_of_business="home",
        effective_from=date(2026, 1, 1),
        effective_to=date(2027, 1, 1),
        limit=Decimal("50000"),
    )
    claims = [
        Claim.objects.create(
            system=system,
            external_id=f"C-{number}",
            policy=policy,
            loss_date=date(2026, 5, 1),
            reported_date=date(2026, 5, 2),
            amount_claimed=Decimal("1200"),
            currency="USD",
            description="Water damage in the kitchen.",
            status=Claim.Status.COMPLETE,
        )
        for number in (1, 2)
    ]
    for claim in claims:
        Triage.objects.create(
            claim=claim,
            line_of_business="home",
            line_of_business_confidence=0.9,
            route="standard",
            model_route="fast_track",
            route_confidence=0.7,
            route_reasons=["the amount is above the fast-track limit"],
            fraud_score=0.2,
            abstained=True,
            model_versions={"claims-route": 1},
        )
        PolicyCheck.objects.create(
            claim=claim,
            passed=False,
            findings=[{"name": "coverage", "passed": False, "reason": "not covered", "evidence": []}],
            payable=Decimal("0"),
        )
    Decision.objects.create(
        claim=claims[1],
        adjuster=adjuster,
        line_of_business="home",
        route="specialist",
        fraud_suspected=True,
        overridden=["route"],
        note="Seen the photos.",
    )
    return reverse("claims:claim", args=[claims[0].pk]), reverse("claims:claim", args=[claims[1].pk])


def _aml(analyst: User) -> str:
    customer = Customer.objects.create(
        reference="CUS-1", name="Dana Smith", kind="individual", country="GB", onboarded_on=date(2024, 1, 1)
    )
    account = Account.objects.create(
        customer=customer, number="ACC-1", currency="EUR", opened_on=date(2024, 1, 2), kind="current"
    )
    now = timezone.now()
    booked = [
        Transaction.objects.create(
            account=account,
            external_id=f"T-{number}",
            amount=Decimal(amount),
            currency="EUR",
            direction="in",
            counterparty_name="Bank branch",
            channel="cash",
            booked_at=now - timedelta(days=days),
            narrative="deposit",
        )
        for number, amount, days in ((1, "9400.00", 2), (2, "9500.00", 0), (3, "40.00", 5))
    ]
    screening = Screening.objects.create(
        subject_kind=Screening.SubjectKind.TRANSACTION,
        transaction=booked[1],
        customer=customer,
        typology="structuring",
        rule_hits=[
            {
                "code": "structuring",
                "reason_code": "R01",
                "name": "Structuring",
                "detail": "2 cash deposits just under 10,000.00",
                "evidence": [booked[0].pk, booked[1].pk],
                "weight": 1.5,
            }
        ],
        risk=0.8,
        explanation={
            "risk": {
                "score": 0.8,
                "bias": -2.5,
                "contributions": [
                    {"feature": "rule:R01", "value": 1.0, "contribution": 1.9, "detail": "R01"}
                ],
            },
            "typology": {
                "label": "structuring",
                "probability": 0.83,
                "suspicion": 0.9,
                "alternatives": [{"label": "fraud", "probability": 0.07}],
            },
            "phrases": [{"start": 0, "end": 7, "weight": 0.41}],
        },
    )
    alert = Alert.objects.create(
        screening=screening, customer=customer, risk=0.8, status=Alert.Status.IN_PROGRESS, assignee=analyst
    )
    case = Case.objects.create(alert=alert, assignee=analyst)
    other = Screening.objects.create(
        subject_kind=Screening.SubjectKind.DOCUMENT,
        document_name="invoice.txt",
        document_text="Pay in cash.",
        customer=customer,
        typology="structuring",
        risk=0.5,
    )
    Alert.objects.create(screening=other, customer=customer, risk=0.5)
    return reverse("aml:case", args=[case.pk])


def _chat(alice: User) -> Conversation:
    conversation = Conversation.objects.create(user=alice)
    Message.objects.create(conversation=conversation, role=Message.Role.CUSTOMER, text="Where is my card?")
    Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        kind=Message.Kind.ANSWER,
        intent="card_arrival",
        text="Cards arrive within a week.",
        citations=[{"number": 1, "title": "Cards", "collection": "faq", "version": 1, "text": "A week."}],
        rating=-1,
        feedback="too slow",
    )
    handoff = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        kind=Message.Kind.HANDOFF,
        intent="card_arrival",
        text="A colleague will help.",
    )
    Ticket.objects.create(conversation=conversation, message=handoff, intent="card_arrival", transcript="...")
    earlier = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        kind=Message.Kind.ANSWER,
        intent="exchange_rate",
        text="The rate is set daily.",
    )
    Message.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(days=2))
    return conversation


@pytest.fixture
def world(db) -> World:
    users = {
        "anon": None,
        "adv": _user("alice", roles.ADVISOR),
        "claim": _user("cal", roles.CLAIMS_ADJUSTER),
        "aml": _user("ana", roles.AML_ANALYST),
        "ml": _user("max", roles.ML_ENGINEER, is_staff=True),
        "supp": _user("sue", roles.SUPPORT_AGENT, is_staff=True),
        "eve": _user("eve"),
    }
    client_page = _advisory(users["adv"])
    undecided, decided = _claims(users["claim"])
    case_page = _aml(users["aml"])
    _chat(users["adv"])
    return World(
        users={name: user for name, user in users.items() if user is not None},
        pages=[
            ("anon", reverse("home"), "将语言模型用于金融业务流程"),
            ("anon", reverse("login"), "登录 finassist"),
            ("anon", reverse("chat:chat"), "帮助：有问题尽管问"),
            ("adv", reverse("home"), "已登录为"),
            ("adv", reverse("landing"), "您的客户"),
            ("adv", reverse("advisory:clients"), "您的客户"),
            ("adv", client_page, "风险承受能力"),
            ("adv", reverse("advisory:ask"), "产品与研究"),
            ("adv", reverse("chat:chat"), "已转给同事处理"),
            ("claim", reverse("claims:queue"), "等待决定的理赔"),
            ("claim", undecided, "接受分流结果"),
            ("claim", decided, "决定：改判处理路径"),
            ("claim", reverse("claims:models"), "模型与理赔员决定的对比"),
            ("aml", reverse("aml:queue"), "领取下一条预警"),
            ("aml", case_page, "被标记的原因"),
            ("ml", reverse("lab:index"), "检索、微调还是提示？"),
            ("supp", reverse("chat:staff"), "聊天统计"),
            ("eve", reverse("advisory:clients"), "您无权使用此页面"),
        ],
    )


def _client(world: World, persona: str, **defaults: str) -> WebClient:
    client = WebClient(**defaults)
    if persona in world.users:
        client.force_login(world.users[persona])
    return client


def _chat_session(client: WebClient) -> None:
    """The signed-in advisor's chat page shows the conversation with the handoff."""
    conversation = Conversation.objects.get(user__username="alice")
    session = client.session
    session["chat_conversation"] = str(conversation.public_id)
    session.save()


def _visit(world: World, ask: Callable[[str], WebClient]) -> list[str]:
    problems = []
    for persona, address, expected in world.pages:
        client = ask(persona)
        if persona == "adv" and address == reverse("chat:chat"):
            _chat_session(client)
        response = client.get(address, follow=True)
        html = response.content.decode()
        if response.status_code not in (200, 403):
            problems.append(f"{persona} {address}: {response.status_code}")
            continue
        if (left := untranslated(html, DATA)) != []:
            problems.append(f"{persona} {address} shows in English: {left}")
        if expected not in html:
            problems.append(f"{persona} {address} does not show {expected!r}")
        if '<html lang="zh-hans">' not in html:
            problems.append(f"{persona} {address} is not marked as Chinese")
    return problems


def test_the_checker_finds_catalogue_strings_a_page_shows_in_english(world: World) -> None:
    client = _client(world, "aml")

    left = untranslated(client.get(reverse("aml:queue")).content.decode())

    assert {"Take next alert", "My open cases", "Sign out"} <= set(left)
    assert untranslated("<p>Case 12</p><p>The customer's transactions 30 days either side</p>") == [
        "Case %(number)s"
    ]


def test_every_personas_main_pages_are_all_in_chinese_as_the_browser_asks(world: World) -> None:
    assert _visit(world, lambda persona: _client(world, persona, HTTP_ACCEPT_LANGUAGE="zh-hans")) == []


def test_every_personas_main_pages_are_all_in_chinese_as_the_language_cookie_says(world: World) -> None:
    def ask(persona: str) -> WebClient:
        client = _client(world, persona, HTTP_ACCEPT_LANGUAGE="en")
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        return client

    assert _visit(world, ask) == []


def test_dates_and_amounts_are_written_as_chinese_writes_them(world: World) -> None:
    client = _client(world, "adv", HTTP_ACCEPT_LANGUAGE="zh-hans")
    address = next(address for persona, address, _ in world.pages if address.startswith("/advisory/clients/"))

    page = client.get(address).content.decode()

    assert "2026年3月4日" in page  # the letter's date
    assert "EUR 140,000" in page  # amounts grouped in thousands
    assert "6 年" in page


def test_the_header_switches_the_language_and_back_keeping_the_page(world: World) -> None:
    client = _client(world, "claim")
    queue = reverse("claims:queue")
    english = client.get(queue).content.decode()
    assert "Claims waiting for a decision" in english
    assert f'action="{reverse("set_language")}"' in english
    assert 'value="zh-hans"' in english

    switched = client.post(reverse("set_language"), {"language": "zh-hans", "next": queue})

    assert switched.status_code == 302
    assert switched["Location"] == queue
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    chinese = client.get(queue).content.decode()
    assert "等待决定的理赔" in chinese
    assert untranslated(chinese) == []
    assert (
        '<button type="submit" name="language" value="zh-hans" lang="zh-hans" aria-current="true">' in chinese
    )

    client.post(reverse("set_language"), {"language": "en", "next": queue})

    assert "Claims waiting for a decision" in client.get(queue).content.decode()


def test_english_stays_the_default_and_the_api_speaks_english_whatever_is_asked(world: World) -> None:
    anon = WebClient()
    assert '<html lang="en">' in anon.get(reverse("home")).content.decode()

    api = WebClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    refused = api.get("/api/advisory/clients/")

    assert refused.status_code in (401, 403)
    assert not CHINESE.search(refused.content.decode())
    assert "Accept-Language" not in refused.get("Vary", "")


def test_the_scripts_messages_come_in_the_pages_language(world: World) -> None:
    page = _client(world, "adv", HTTP_ACCEPT_LANGUAGE="zh-hans").get(reverse("advisory:ask")).content.decode()

    assert 'data-request-failed="请求失败（{status}）。"' in page
    assert 'data-connection-lost="与服务器的连接已断开，请重试。"' in page


def test_a_chart_names_its_days_in_the_readers_language() -> None:
    from django.utils import translation

    from assistant.core.charts import day_label

    moment = datetime(2026, 12, 4, tzinfo=UTC).timestamp()
    with translation.override("en"):
        assert day_label(moment) == "4 Dec"
    with translation.override("zh-hans"):
        assert day_label(moment) == "12月4日"

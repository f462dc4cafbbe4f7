"""A Chinese message is routed by knn over the multilingual encoder, not by the English router,
and answered from the collections that encoder reads."""

import pytest
from django.forms.models import model_to_dict
from django.test import override_settings

from assistant.chat.intents import (
    CHAT_INTENT_MULTILINGUAL,
    CHINESE_EXAMPLES,
    CLARIFY_ZH,
    HANDOFF_ZH,
    INTENT_LABELS_ZH,
    SAMPLE,
)
from assistant.chat.models import Message, Ticket
from assistant.chat.selectors import ChatCustomer, chat_collections
from assistant.chat.services import conversation_start, follow_up, turn_start
from assistant.core import roles
from assistant.core.e5 import MULTILINGUAL_MODEL
from assistant.knowledge.services.submission import collection_get_or_create
from assistant.training import inference
from assistant.training.inference import active_forget
from assistant.training.models import ModelVersion

pytestmark = pytest.mark.slow

TASK = CHAT_INTENT_MULTILINGUAL.name
CUSTOMER = ChatCustomer(user_id=None, session_key="session-mei")
FAQ_ZH = (
    "id,question,answer\n"
    "zh-exchange,你们用什么汇率？,外币刷卡按当天的卡组织汇率换算，周末另收0.5%的手续费。\n"
    "zh-transfer-limit,每天最多可以转账多少？,手机银行单日转账限额为2.5万元。大额转账请携带身份证件到网点办理。\n"
)


@pytest.fixture(scope="session")
def multilingual_router(tmp_path_factory, django_db_setup, django_db_blocker) -> dict:
    """knn over the multilingual encoder's embeddings of the project's English sample and its
    Chinese training messages."""
    from assistant.training.services import run_execute, run_submit

    examples = tmp_path_factory.mktemp("examples") / "intents.csv"
    chinese = CHINESE_EXAMPLES.read_text().split("\n", 1)[1]
    examples.write_text(SAMPLE.read_text().rstrip("\n") + "\n" + chinese)
    with django_db_blocker.unblock(), override_settings(MODELS_DIR=tmp_path_factory.mktemp("models")):
        run = run_execute(run_submit(task=TASK, options={}, data_file=examples, dispatch=False).pk)
        version = run.model_version
        fields = model_to_dict(version, exclude=["id", "run"])
        version.delete()
        run.delete()
    assert fields["method"] == "knn"
    assert fields["base_model"] == MULTILINGUAL_MODEL
    return fields


@pytest.fixture
def router(multilingual_router, db):
    def activate(abstain_threshold: float = 0.0) -> ModelVersion:
        inference._pending.clear()
        ModelVersion.objects.filter(task=TASK).delete()
        fields = {**multilingual_router, "abstain_threshold": abstain_threshold, "status": "active"}
        version = ModelVersion.objects.create(**fields)
        active_forget(TASK)
        return version

    yield activate
    active_forget(TASK)
    inference._pending.clear()


@pytest.fixture
def faq_zh(db, index_files):
    collection = collection_get_or_create(
        name="faq-zh", reader_groups=[roles.ADVISOR], embedding_model=MULTILINGUAL_MODEL
    )
    index_files(collection, [("faq.csv", FAQ_ZH.encode())])
    return collection


def _say(conversation, text, intent=None) -> Message:
    replying = turn_start(conversation=conversation, text=text, intent=intent)
    "".join(replying.stream())
    replying.message.refresh_from_db()
    return replying.message


def test_a_chinese_question_is_routed_without_the_english_router_and_answered_with_citations(
    router, faq, faq_zh
):
    """No chat-intent version is active: had the English router been asked, the turn would fail."""
    version = router(0.0)
    assert chat_collections("zh") == ["faq-zh"]
    conversation = conversation_start(customer=CUSTOMER)

    reply = _say(conversation, "你们外币刷卡用的是什么汇率？")

    assert reply.kind == Message.Kind.ANSWER
    assert reply.model_version == version.pk
    assert reply.intent in {"exchange_rate", "card_payment_wrong_exchange_rate", "exchange_charge"}
    assert "[1]" in reply.text
    assert "卡组织汇率" in reply.text
    assert {c["collection"] for c in reply.citations} == {"faq-zh"}
    assert reply.citations[0]["external_id"] == "zh-exchange"


def test_a_chinese_account_question_is_handed_off_in_chinese(router, faq_zh):
    router(0.0)
    conversation = conversation_start(customer=CUSTOMER)
    reply = _say(conversation, "我的银行卡丢了，好像是被人偷了")
    assert reply.kind == Message.Kind.HANDOFF
    assert reply.intent in {"lost_or_stolen_card", "compromised_card"}
    assert reply.text == HANDOFF_ZH
    assert Ticket.objects.get(message=reply).intent == reply.intent


def test_an_unsure_router_asks_in_chinese_with_chinese_options(router, faq_zh):
    router(1.1)
    reply = _say(conversation_start(customer=CUSTOMER), "转账")
    assert reply.kind == Message.Kind.CLARIFY
    assert reply.text == CLARIFY_ZH
    assert all(option["label"] == INTENT_LABELS_ZH[option["intent"]] for option in reply.options)


def test_chinese_follow_ups_are_told_by_chinese_words():
    assert follow_up("那要多少钱？")
    assert follow_up("它也可以吗")
    assert not follow_up("我想知道国际转账一般需要几个工作日才能到账")

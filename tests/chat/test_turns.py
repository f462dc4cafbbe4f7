import pytest

from assistant.chat.models import Conversation, IntentRoute, Message, Ticket
from assistant.chat.selectors import ChatCustomer, chat_stats, conversation_get
from assistant.chat.services import CLARIFY, conversation_start, turn_feedback, turn_start
from assistant.core.errors import ApplicationError, NotFound

ANNA = ChatCustomer(user_id=None, session_key="session-anna")
BEN = ChatCustomer(user_id=None, session_key="session-ben")


def _say(conversation, text, intent=None) -> Message:
    replying = turn_start(conversation=conversation, text=text, intent=intent)
    "".join(replying.stream())
    replying.message.refresh_from_db()
    return replying.message


def test_every_intent_has_a_route_and_account_intents_hand_off(db):
    assert IntentRoute.objects.count() == 77
    assert IntentRoute.objects.get(intent="card_arrival").route == IntentRoute.Route.HANDOFF
    assert IntentRoute.objects.get(intent="exchange_rate").route == IntentRoute.Route.ANSWER
    assert IntentRoute.objects.get(intent="card_arrival").label == "Card arrival"


def test_a_general_question_is_answered_from_the_faq_with_citations(intent_model, faq):
    version = intent_model(0.0)
    conversation = conversation_start(customer=ANNA)
    reply = _say(conversation, "What exchange rate do you use?")
    assert reply.kind == Message.Kind.ANSWER
    assert reply.intent == "exchange_rate"
    assert reply.model_version == version.pk
    assert 0 < reply.confidence <= 1
    assert "network rate of the day" in reply.text
    assert "[1]" in reply.text
    assert reply.citations[0]["collection"] == "faq"
    assert reply.citations[0]["external_id"] == "faq-exchange"
    assert set(reply.timings_ms) == {"intent", "retrieve", "generate", "total"}


def test_a_follow_up_is_searched_with_the_earlier_turns(intent_model, faq):
    intent_model(0.0)
    conversation = conversation_start(customer=ANNA)
    _say(conversation, "How do I dispute a card payment?", intent="request_refund")
    follow_up = _say(conversation, "Does it cost anything?", intent="request_refund")
    assert follow_up.query == "How do I dispute a card payment? Does it cost anything?"
    assert any(c["external_id"] == "faq-dispute-fee" for c in follow_up.citations)
    new_topic = _say(conversation, "What exchange rate do you use?")
    assert new_topic.query == "What exchange rate do you use?"


def test_an_account_question_gets_the_scripted_reply_and_a_ticket(intent_model, faq):
    intent_model(0.0)
    conversation = conversation_start(customer=ANNA)
    reply = _say(conversation, "My new card still has not arrived")
    assert reply.kind == Message.Kind.HANDOFF
    assert reply.intent == "card_arrival"
    assert reply.text == IntentRoute.objects.get(intent="card_arrival").reply
    ticket = Ticket.objects.get(message=reply)
    assert ticket.intent == "card_arrival"
    assert "Customer: My new card still has not arrived" in ticket.transcript
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.HANDED_OFF


def test_an_edited_scripted_reply_is_what_the_customer_gets(intent_model, faq):
    intent_model(0.0)
    IntentRoute.objects.filter(intent="card_arrival").update(reply="A colleague will check your card.")
    reply = _say(conversation_start(customer=ANNA), "My new card still has not arrived")
    assert reply.text == "A colleague will check your card."


def test_below_the_abstain_threshold_the_bot_offers_the_likeliest_intents(intent_model, faq):
    intent_model(1.01)
    conversation = conversation_start(customer=ANNA)
    reply = _say(conversation, "My new card still has not arrived")
    assert reply.kind == Message.Kind.CLARIFY
    assert reply.text == CLARIFY
    assert len(reply.options) == 3
    assert reply.options[0]["intent"] == "card_arrival"
    assert reply.options[0]["label"] == "Card arrival"
    assert not Ticket.objects.exists()

    chosen = _say(conversation, "Card arrival", intent="card_arrival")
    assert chosen.chosen
    assert chosen.kind == Message.Kind.HANDOFF


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 1001, "limit is 1000"),
        (42, "must be text"),
        (["hi"], "must be text"),
    ],
)
def test_empty_huge_and_non_text_messages_are_refused(db, text, message):
    conversation = conversation_start(customer=ANNA)
    with pytest.raises(ApplicationError, match=message) as refused:
        turn_start(conversation=conversation, text=text)
    assert refused.value.field == "text"
    assert not conversation.messages.exists()


def test_an_unknown_chosen_intent_is_refused(db):
    with pytest.raises(ApplicationError, match="unknown intent"):
        turn_start(conversation=conversation_start(customer=ANNA), text="hi", intent="nonsense")


def test_a_customer_never_sees_another_customers_conversation(db):
    conversation = conversation_start(customer=ANNA)
    assert conversation_get(customer=ANNA, public_id=conversation.public_id) == conversation
    with pytest.raises(NotFound):
        conversation_get(customer=BEN, public_id=conversation.public_id)
    with pytest.raises(NotFound):
        conversation_get(customer=ANNA, public_id="not-a-uuid")


def test_statistics_count_abstains_handoffs_intents_and_thumbs_down(intent_model, faq):
    intent_model(0.0)
    conversation = conversation_start(customer=ANNA)
    answer = _say(conversation, "What exchange rate do you use?")
    _say(conversation, "My new card still has not arrived")
    intent_model(1.01)
    _say(conversation, "What exchange rate do you use?")
    turn_feedback(message=answer, rating=-1, comment="too vague")
    stats = chat_stats()
    assert stats.turns == 3
    assert stats.abstain_rate == pytest.approx(1 / 3, abs=1e-3)
    assert stats.handoff_rate == pytest.approx(1 / 3, abs=1e-3)
    assert dict(stats.intents) == {"exchange_rate": 1, "card_arrival": 1}
    assert stats.handoffs == [("card_arrival", 1)]
    assert [m.pk for m in stats.thumbs_down] == [answer.pk]

import logging

import pytest

from advisory.models import Answer
from advisory.selectors import NotFound
from advisory.services import answer_create, answer_feedback, answer_start, fields_needed
from assistant.core.errors import ApplicationError
from assistant.generation.base import NO_ANSWER


def _ask(advisor, question: str, scope: str, client=None, **options) -> Answer:
    asking = answer_start(
        advisor=advisor, question=question, scope=scope, client_id=client.pk if client else None, **options
    )
    "".join(asking.stream())
    asking.answer.refresh_from_db()
    return asking.answer


@pytest.mark.parametrize(
    ("question", "fields"),
    [
        ("What is the ongoing charge of the bond fund?", ["holdings"]),
        ("How much risk can she take?", ["risk_tolerance"]),
        ("When does he want to retire?", ["age", "goals", "horizon_years"]),
        (
            "Is the Short Duration Bond Fund suitable for her?",
            ["risk_tolerance", "goals", "horizon_years", "restrictions", "holdings"],
        ),
        (
            "Give me an overview of the client",
            ["age", "income_band", "risk_tolerance", "goals", "horizon_years", "restrictions", "holdings"],
        ),
        ("What did central banks do?", []),
    ],
)
def test_a_question_gets_only_the_client_fields_it_needs(question, fields):
    assert fields_needed(question) == fields


def test_a_knowledge_answer_stores_its_question_citations_backend_and_timings(advisors, knowledge):
    answer = _ask(advisors["alice"], "What is the ongoing charge of the bond fund?", "knowledge")
    assert answer.status == Answer.Status.COMPLETE
    assert "0.25% a year" in answer.text
    assert "[1]" in answer.text
    assert answer.collections == ["products", "research"]
    assert (answer.backend, answer.model_name) == ("extractive", "extractive-v2")
    assert answer.client is None
    assert answer.fields_used == []
    assert set(answer.timings_ms) == {"embed", "retrieve", "generate", "total"}
    first = answer.citations.get(number=1)
    assert first.cited
    assert first.document.external_id == first.external_id == "short-duration-bond-fund.md"
    assert (first.collection, first.version) == ("products", 1)
    assert "0.25%" in first.text
    assert answer.ungrounded == []


def test_a_client_answer_uses_the_needed_fields_and_the_clients_letters(advisors, clients, knowledge):
    answer = _ask(
        advisors["alice"], "Is the bond fund suitable given her risk tolerance?", "both", clients["maria"]
    )
    assert answer.fields_used == ["risk_tolerance", "goals", "horizon_years", "restrictions", "holdings"]
    assert "risk tolerance: moderate" in answer.text
    letter = answer.citations.get(number=1)
    assert letter.letter is not None
    assert letter.title.startswith("Letter of 04 Mar 2026")
    assert answer.citations.filter(collection="products").exists()
    assert "age" not in answer.fields_used


def test_an_unrelated_question_gets_no_invented_answer(advisors, knowledge):
    answer = _ask(advisors["alice"], "Who won the football world cup in 1998?", "knowledge")
    assert answer.text == NO_ANSWER


def test_another_advisors_client_is_not_found(advisors, clients, knowledge):
    with pytest.raises(NotFound):
        answer_start(
            advisor=advisors["bob"], question="How much risk?", scope="client", client_id=clients["maria"].pk
        )
    assert not Answer.objects.exists()


@pytest.mark.parametrize(
    ("question", "scope", "client", "field"),
    [
        ("   ", "knowledge", None, "question"),
        ("x" * 2001, "knowledge", None, "question"),
        ("What?", "everything", None, "scope"),
        ("What?", "client", None, "client"),
    ],
)
def test_bad_questions_are_refused_with_the_field(advisors, knowledge, question, scope, client, field):
    with pytest.raises(ApplicationError) as refused:
        answer_start(advisor=advisors["alice"], question=question, scope=scope, client_id=client)
    assert refused.value.field == field
    assert refused.value.status == 400


def test_logs_carry_no_client_identifiers(advisors, clients, knowledge, caplog):
    with caplog.at_level(logging.INFO, logger="finassist.advisory"):
        _ask(
            advisors["alice"],
            "Should Maria Keller (ADV-1) move account DE44500105175407324931?",
            "client",
            clients["maria"],
        )
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "asked" in logged
    for secret in ("Maria", "Keller", "ADV-1", "DE44500105175407324931"):
        assert secret not in logged


def test_feedback_is_recorded_and_checked(advisors, knowledge):
    answer = _ask(advisors["alice"], "What is the ongoing charge?", "knowledge")
    answer_feedback(answer=answer, rating=-1, comment="  too short ")
    answer.refresh_from_db()
    assert (answer.rating, answer.feedback) == (-1, "too short")
    with pytest.raises(ApplicationError, match="rating"):
        answer_feedback(answer=answer, rating=5)


def test_a_failing_generation_server_leaves_a_failed_answer_with_the_reason(advisors, knowledge, settings):
    from assistant.generation import backend
    from assistant.generation.base import GenerationUnavailable

    settings.GENERATION_BACKEND = "openai"
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    settings.OPENAI_MODEL = "tiny-chat"
    settings.GENERATION_RETRIES = 0
    backend.cache_clear()
    asking = answer_start(advisor=advisors["alice"], question="What is the charge?", scope="knowledge")
    with pytest.raises(GenerationUnavailable):
        list(asking.stream())
    asking.answer.refresh_from_db()
    assert asking.answer.status == Answer.Status.FAILED
    assert "not answering" in asking.answer.error
    assert asking.answer.citations.count() >= 1


def test_an_answer_whose_reader_leaves_is_marked_failed_not_left_answering(advisors, knowledge):
    asking = answer_start(advisor=advisors["alice"], question="What is the charge?", scope="knowledge")
    pieces = asking.stream()
    next(pieces)
    pieces.close()
    asking.answer.refresh_from_db()
    assert asking.answer.status == Answer.Status.FAILED
    assert "interrupted" in asking.answer.error
    assert asking.answer.text


def test_an_answer_that_outruns_the_time_limit_stops_and_is_stored_failed_with_its_text(
    advisors, knowledge, settings
):
    from assistant.generation import backend
    from assistant.generation.base import GenerationUnavailable
    from tests.support.openai_server import FakeChatServer

    server = FakeChatServer(
        ["The charge is 0.25% a year and it is paid from the fund [1]."], word_delay_s=0.2
    )
    settings.GENERATION_BACKEND = "openai"
    settings.OPENAI_BASE_URL = server.url
    settings.OPENAI_MODEL = "tiny-chat"
    settings.GENERATION_MAX_SECONDS = 0.5
    backend.cache_clear()
    try:
        with pytest.raises(GenerationUnavailable, match=r"took longer than 0\.5 s"):
            answer_create(advisor=advisors["alice"], question="What is the charge?", scope="knowledge")
    finally:
        server.stop()

    answer = Answer.objects.get()
    assert answer.status == Answer.Status.FAILED
    assert "FINASSIST_GENERATION_MAX_SECONDS" in answer.error
    assert answer.text.startswith("The charge")  # what came before the limit is kept
    assert answer.timings_ms["generate"] < 1500


def test_the_api_path_stores_the_whole_answer_in_one_service_call(advisors, knowledge):
    question = "What is the ongoing charge of the bond fund?"
    answer = answer_create(advisor=advisors["alice"], question=question, scope="knowledge")

    answer.refresh_from_db()
    assert answer.status == Answer.Status.COMPLETE
    assert "0.25% a year" in answer.text
    assert answer.citations.get(number=1).cited

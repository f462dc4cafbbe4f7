import logging
import re
from pathlib import Path

import pytest

from assistant.core.privacy import Masker, MaskingFilter
from assistant.generation import backend
from assistant.generation.base import NO_ANSWER, Fact, GenerationUnavailable, Passage, Prompt
from assistant.generation.extractive import Extractive
from assistant.generation.remote import OpenAICompatible
from assistant.generation.text import sentences, ungrounded_numbers

PASSAGES = [
    Passage(
        1,
        "The Short Duration Bond Fund invests in bonds maturing within three years. "
        "The ongoing charge is 0.25% a year. Income is paid quarterly.",
        "Short Duration Bond Fund",
        similarity=0.62,
    ),
    Passage(
        2,
        "Falling rates lift bond prices. Longer maturities gain more.",
        "Rates outlook",
        page=3,
        similarity=0.4,
    ),
]


def _answer(prompt: Prompt) -> str:
    return "".join(Extractive().stream(prompt)).strip()


class TestExtractive:
    def test_it_answers_with_cited_sentences_copied_from_the_passages(self):
        answer = _answer(Prompt("What is the ongoing charge of the bond fund?", PASSAGES))
        assert "The ongoing charge is 0.25% a year. [1]" in answer
        for part in answer.split("]"):
            sentence = part.rsplit("[", 1)[0].strip()
            if sentence:
                assert any(sentence in p.text for p in PASSAGES), sentence

    def test_below_the_relevance_threshold_it_says_the_knowledge_base_does_not_answer(self, settings):
        settings.GENERATION_MIN_RELEVANCE = 0.7
        assert _answer(Prompt("What is the ongoing charge?", PASSAGES)) == NO_ANSWER
        assert _answer(Prompt("Anything?", [])) == NO_ANSWER

    def test_client_fields_are_quoted_from_the_record(self):
        facts = [Fact("risk_tolerance", "risk tolerance", "moderate")]
        answer = _answer(Prompt("Does the bond fund suit her risk tolerance?", PASSAGES, facts))
        assert answer.startswith("From the client record: risk tolerance: moderate.")
        assert "[1]" in answer


def test_sentences_split_text_and_table_lines():
    text = "Revenue rose 5% this year. Costs fell sharply again.\nTotal assets 1,234 5,678\nPage 3"
    assert sentences(text) == [
        "Revenue rose 5% this year.",
        "Costs fell sharply again.",
        "Total assets 1,234 5,678",
    ]


def test_grounding_marks_numbers_that_no_cited_text_holds():
    answer = "The charge is 0.25% [1] and the fund returned 7.5% last year [1], with $1,200 minimum."
    found = ungrounded_numbers(answer, ["The ongoing charge is 0.25% a year; minimum $1200."])
    assert [u["text"] for u in found] == ["7.5%"]
    assert answer[found[0]["start"] : found[0]["end"]] == "7.5%"


class TestMasking:
    def test_known_and_pattern_identifiers_are_replaced_and_restored(self):
        masker = Masker([("NAME", "Maria Keller"), ("NAME", "Maria"), ("CLIENT", "ADV-1001")])
        text = (
            "Maria Keller (ADV-1001, IBAN DE44 5001 0517 5407 3249 31, maria@example.com, +49 30 1234567) "
            "asked; Maria again."
        )
        masked = masker.mask(text)
        for secret in ("Maria", "ADV-1001", "DE44", "maria@example.com", "1234567"):
            assert secret not in masked
        assert {"[NAME-1]", "[CLIENT-1]", "[EMAIL-1]"} <= set(re.findall(r"\[[A-Z]+-\d\]", masked))
        assert masker.unmask(masked) == text

    def test_a_placeholder_split_across_streamed_pieces_is_restored(self):
        masker = Masker([("NAME", "Maria Keller")])
        masker.mask("Maria Keller")
        assert "".join(masker.unmask_stream(["Dear [NA", "ME-1], your", " fund [1]"])) == (
            "Dear Maria Keller, your fund [1]"
        )

    def test_log_records_lose_their_identifiers(self):
        record = logging.LogRecord(
            "finassist.x", logging.INFO, __file__, 1, "account %s", ("12345678901",), None
        )
        MaskingFilter().filter(record)
        assert "12345678901" not in record.getMessage()


class TestOpenAICompatible:
    def test_it_streams_the_answer_from_a_numbered_prompt(self, chat_server):
        server = chat_server(["The charge is 0.25% [1]."])
        answering = backend()
        assert isinstance(answering, OpenAICompatible)
        pieces = list(answering.stream(Prompt("What is the charge?", PASSAGES)))
        assert len(pieces) > 1
        assert "".join(pieces).strip() == "The charge is 0.25% [1]."
        request = server.requests[0]
        assert request["path"] == "/v1/chat/completions"
        assert request["headers"]["Authorization"] == "Bearer sk-test"
        body = request["body"]
        assert (body["model"], body["stream"]) == ("tiny-chat", True)
        assert "[1] Short Duration Bond Fund" in body["messages"][1]["content"]
        assert "[2] Rates outlook, page 4" in body["messages"][1]["content"]
        assert "cite" in body["messages"][0]["content"].lower()

    def test_client_identifiers_never_reach_the_server_and_come_back_restored(self, chat_server):
        server = chat_server(["[NAME-1] should keep the fund [1]."])
        masker = Masker([("NAME", "Maria Keller")])
        prompt = Prompt("Should Maria Keller keep the bond fund?", PASSAGES)
        answer = "".join(backend().stream(prompt, masker=masker)).strip()
        assert "Maria" not in server.requests[0]["body"]["messages"][1]["content"]
        assert answer == "Maria Keller should keep the fund [1]."

    def test_a_failure_before_the_first_token_is_retried(self, chat_server):
        server = chat_server([503, 502, "Recovered [1]."])
        assert "".join(backend().stream(Prompt("Q?", PASSAGES))).strip() == "Recovered [1]."
        assert len(server.requests) == 3

    def test_a_server_that_keeps_failing_is_reported_clearly(self, chat_server):
        chat_server([503, 503, 503])
        with pytest.raises(GenerationUnavailable, match="not answering"):
            list(backend().stream(Prompt("Q?", PASSAGES)))

    def test_a_server_that_is_down_is_reported_clearly(self, settings):
        settings.GENERATION_BACKEND = "openai"
        settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
        settings.OPENAI_MODEL = "tiny-chat"
        settings.GENERATION_RETRIES = 0
        with pytest.raises(GenerationUnavailable, match=r"127\.0\.0\.1:9/v1 is not answering"):
            list(backend().stream(Prompt("Q?", PASSAGES)))


def _tiny_causal_model(folder: Path) -> Path:
    """A randomly initialised two-layer GPT-2 with the bundled model's tokenizer: real code, toy weights."""
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    from assistant.core.hf import model_path

    tokenizer = AutoTokenizer.from_pretrained(model_path("all-MiniLM-L6-v2"))
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=1024,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


class TestLocalCausalModel:
    def test_it_generates_from_a_local_model(self, settings, tmp_path):
        settings.GENERATION_BACKEND = "transformers"
        settings.GENERATION_MODEL = str(_tiny_causal_model(tmp_path / "model"))
        settings.GENERATION_MAX_TOKENS = 6
        answering = backend()
        assert answering.name == "transformers"
        pieces = list(answering.stream(Prompt("What is the charge?", PASSAGES)))
        assert "".join(pieces).strip()

    def test_it_loads_a_lora_adapter_from_the_registry(self, settings, tmp_path, db):
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM

        from assistant.training.models import ModelVersion
        from assistant.training.techniques.artefact import checksum

        model_dir = _tiny_causal_model(tmp_path / "model")
        adapter_dir = tmp_path / "adapter"
        peft_model = get_peft_model(
            AutoModelForCausalLM.from_pretrained(model_dir),
            LoraConfig(r=4, target_modules=["c_attn"], fan_in_fan_out=True),
        )
        peft_model.save_pretrained(adapter_dir)
        version = ModelVersion.objects.create(
            task="advisory-answers",
            base_model=str(model_dir),
            method="lora",
            config={},
            labels=[],
            library_versions={},
            dataset_hash="0" * 64,
            metrics={},
            abstain_threshold=0.0,
            drift_reference={},
            artefact_path=str(adapter_dir),
            artefact_checksum=checksum(adapter_dir),
            format_version=1,
        )
        settings.GENERATION_BACKEND = "transformers"
        settings.GENERATION_MODEL = str(model_dir)
        settings.GENERATION_ADAPTER = f"registry:{version.pk}"
        settings.GENERATION_MAX_TOKENS = 6
        answering = backend()
        assert type(answering.model).__name__ == "PeftModel"
        assert "".join(answering.stream(Prompt("What is the charge?", PASSAGES))).strip()

        (adapter_dir / "adapter_config.json").write_text("{}")
        backend.cache_clear()
        with pytest.raises(GenerationUnavailable, match="checksum"):
            backend()

    def test_a_missing_model_is_a_clear_error(self, settings, tmp_path):
        settings.GENERATION_BACKEND = "transformers"
        settings.GENERATION_MODEL = str(tmp_path)
        with pytest.raises(GenerationUnavailable, match="not a local Hugging Face model directory"):
            backend()

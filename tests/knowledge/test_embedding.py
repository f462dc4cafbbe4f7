import numpy as np
import pytest

from assistant.core.hf import PAD_MULTIPLE, length_batches
from assistant.knowledge.embedding import embedder

TEXTS = [
    "Fees.",
    "The annual fee of the premium card is waived in the first year. " * 6,
    "Wire transfers abroad settle in two business days.",
    "Overdraft protection " * 60,  # past the model's input: truncated
    "A savings account pays monthly interest.",
]


@pytest.fixture(scope="module")
def model():
    return embedder("all-MiniLM-L6-v2")


def test_batches_go_by_token_count_and_pad_to_a_multiple_within_the_input_limit(model):
    tokenizer = model._tokenizer
    tokens = [len(ids) for ids in tokenizer(TEXTS, truncation=True, max_length=model.max_tokens)["input_ids"]]

    batches = list(length_batches(tokenizer, TEXTS, batch_size=2, max_tokens=model.max_tokens, device="cpu"))

    order = [index for indices, _ in batches for index in indices]
    assert sorted(order) == list(range(len(TEXTS)))
    assert [tokens[i] for i in order] == sorted(tokens, reverse=True)
    for indices, batch in batches:
        width = batch["input_ids"].shape[1]
        assert width == min(
            -(-max(tokens[i] for i in indices) // PAD_MULTIPLE) * PAD_MULTIPLE, model.max_tokens
        )
        assert batch["attention_mask"].sum(dim=1).tolist() == [tokens[i] for i in indices]
        assert set(batch) == {"input_ids", "token_type_ids", "attention_mask"}


def test_a_text_embeds_the_same_in_a_padded_batch_as_alone(model):
    together = model.embed(TEXTS, batch_size=4)
    alone = np.stack([model.embed([text])[0] for text in TEXTS])

    assert together.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(together, axis=1), 1, atol=1e-5)
    assert (together * alone).sum(axis=1).min() > 0.999


def test_nothing_to_embed_gives_no_vectors(model):
    assert model.embed([]).shape == (0, 384)

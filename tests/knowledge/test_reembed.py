"""Moving a collection to another embedding model, with a real (tiny, random) second model."""

import shutil

import pytest

from assistant.core.hf import model_path
from assistant.knowledge.models import Chunk, Collection
from assistant.knowledge.search import Reader, SearchRequest, knowledge_search
from assistant.knowledge.services.reembedding import collection_reembed
from assistant.knowledge.services.submission import collection_get_or_create

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def other_model(tmp_path_factory) -> str:
    """A randomly initialised BERT with the bundled model's tokenizer and 384 dimensions."""
    from transformers import BertConfig, BertModel

    path = tmp_path_factory.mktemp("tiny-bert")
    config = BertConfig(hidden_size=384, num_hidden_layers=1, num_attention_heads=4, intermediate_size=128)
    BertModel(config).save_pretrained(path)
    bundled = model_path("all-MiniLM-L6-v2")
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(bundled / name, path / name)
    return str(path)


def test_reembed_moves_every_chunk_and_the_collection_at_once(index_files, other_model):
    collection = collection_get_or_create(name="notes")
    index_files(collection, [("a.md", b"# A\n\nAlpha " * 300), ("b.md", b"# B\n\nBravo text.")])
    before = dict(Chunk.objects.values_list("pk", "embedding"))

    report = collection_reembed(collection=collection, model_name=other_model)

    collection.refresh_from_db()
    assert report.chunks == len(before) > 2
    assert collection.embedding_model == other_model
    assert set(Chunk.objects.values_list("embedding_model", flat=True)) == {other_model}
    after = dict(Chunk.objects.values_list("pk", "embedding"))
    assert all(list(after[pk]) != list(before[pk]) for pk in before)
    results = knowledge_search(
        reader=Reader.system(), request=SearchRequest(query="bravo", collections=["notes"], mode="vector")
    )
    assert results.results


def test_a_model_with_other_dimensions_is_refused_before_anything_changes(index_files, tmp_path):
    from transformers import BertConfig, BertModel

    BertModel(
        BertConfig(hidden_size=64, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    ).save_pretrained(tmp_path)
    shutil.copy(model_path("all-MiniLM-L6-v2") / "tokenizer.json", tmp_path / "tokenizer.json")
    shutil.copy(model_path("all-MiniLM-L6-v2") / "vocab.txt", tmp_path / "vocab.txt")
    shutil.copy(model_path("all-MiniLM-L6-v2") / "tokenizer_config.json", tmp_path / "tokenizer_config.json")
    collection = collection_get_or_create(name="notes")
    index_files(collection, [("b.md", b"# B\n\nBravo text.")])

    from assistant.core.errors import ApplicationError

    with pytest.raises(ApplicationError, match="gives 64 dimensions; the chunk table stores 384"):
        collection_reembed(collection=collection, model_name=str(tmp_path))

    assert Collection.objects.get().embedding_model == "all-MiniLM-L6-v2"


def test_an_unknown_model_is_a_clear_error(index_files):
    from django.core.management import CommandError, call_command

    collection_get_or_create(name="notes")

    with pytest.raises(
        CommandError,
        match="is neither all-MiniLM-L6-v2, multilingual-e5-small nor a local Hugging Face model directory",
    ):
        call_command("reembed", "--collection", "notes", "--model", "/nowhere/model")

"""Threads asking for one text's vector at the same time share a forward pass, each getting its own
vector (or the pass's error), and a text asked for alone is embedded at once."""

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pytest

from assistant.core.encoder import Coalescer
from tests.support.processes import wait_for


class SlowEncoder:
    """Vectors [len(text)], each pass taking a while, the first one held until released."""

    def __init__(self) -> None:
        self.passes: list[list[str]] = []
        self.first_started = threading.Event()
        self.release = threading.Event()

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.passes.append(texts)
        if len(self.passes) == 1:
            self.first_started.set()
            self.release.wait(5)
        if "boom" in texts:
            raise RuntimeError("the model failed")
        return np.array([[float(len(text))] for text in texts])


def while_a_pass_runs(
    pool: ThreadPoolExecutor, coalesce: Coalescer, encoder: SlowEncoder, texts: list[str]
) -> tuple[Future, list[Future]]:
    """A first text ("a") asked for and its pass held; `texts` asked for meanwhile; the pass let go."""
    first = pool.submit(coalesce, "a")
    encoder.first_started.wait(5)
    later = [pool.submit(coalesce, text) for text in texts]
    wait_for(lambda: len(coalesce._waiting) == len(texts), 5, "the texts to wait for the pass running")
    encoder.release.set()
    return first, later


def test_texts_asked_for_while_a_pass_runs_share_the_next_one():
    encoder = SlowEncoder()
    coalesce = Coalescer(encoder)
    with ThreadPoolExecutor(8) as pool:
        first, others = while_a_pass_runs(pool, coalesce, encoder, ["x" * n for n in range(2, 8)])
        vectors = [first.result(5), *(f.result(5) for f in others)]

    assert [v.tolist() for v in vectors] == [[1.0], *([float(n)] for n in range(2, 8))]
    assert [sorted(texts, key=len) for texts in encoder.passes] == [["a"], ["x" * n for n in range(2, 8)]]


def test_a_text_alone_is_embedded_at_once():
    encoder = SlowEncoder()
    encoder.release.set()
    coalesce = Coalescer(encoder)

    assert coalesce("abc").tolist() == [3.0]
    assert coalesce("de").tolist() == [2.0]
    assert encoder.passes == [["abc"], ["de"]]


def test_a_failed_pass_fails_every_text_in_it_and_the_next_ones_go_on():
    encoder = SlowEncoder()
    coalesce = Coalescer(encoder)
    with ThreadPoolExecutor(4) as pool:
        first, failing = while_a_pass_runs(pool, coalesce, encoder, ["boom", "bb"])
        assert first.result(5).tolist() == [1.0]
        for future in failing:
            with pytest.raises(RuntimeError, match="the model failed"):
                future.result(5)

    assert coalesce("ccc").tolist() == [3.0]

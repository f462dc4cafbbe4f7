"""Threads asking for one text's vector at the same time share a forward pass, each getting its own
vector (or the pass's error), and a text asked for alone is embedded at once."""

import threading
from concurrent.futures import ThreadPoolExecutor

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


def test_texts_asked_for_while_a_pass_runs_share_the_next_one():
    encoder = SlowEncoder()
    coalesce = Coalescer(encoder)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(coalesce, "a")
        encoder.first_started.wait(5)
        others = [pool.submit(coalesce, "x" * n) for n in range(2, 8)]
        wait_for(lambda: len(coalesce._waiting) == 6, 5, "the six to wait for the pass running")
        encoder.release.set()
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
        first = pool.submit(coalesce, "a")
        encoder.first_started.wait(5)
        failing = [pool.submit(coalesce, text) for text in ("boom", "bb")]
        wait_for(lambda: len(coalesce._waiting) == 2, 5, "the two to wait for the pass running")
        encoder.release.set()
        assert first.result(5).tolist() == [1.0]
        for future in failing:
            with pytest.raises(RuntimeError, match="the model failed"):
                future.result(5)

    assert coalesce("ccc").tolist() == [3.0]

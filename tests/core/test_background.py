import threading
import time

import pytest

from assistant.core.background import threaded


def test_every_item_is_worked_on_by_the_threads_and_its_results_come_in_order():
    started: list[str] = []

    def work(item: int):
        for step in range(3):
            time.sleep(0.001)
            yield item, step, threading.current_thread().name

    results = list(
        threaded(
            work,
            range(8),
            threads=2,
            waiting=2,
            name="t",
            start=lambda: started.append(threading.current_thread().name),
        )
    )

    assert sorted(started) == ["t-0", "t-1"]
    assert sorted((item, step) for item, step, _ in results) == [(i, s) for i in range(8) for s in range(3)]
    for item in range(8):
        assert [step for i, step, _ in results if i == item] == [0, 1, 2]
    assert {name for _, _, name in results} == {"t-0", "t-1"}


def test_an_error_on_a_thread_is_raised_in_the_caller():
    def work(item: int):
        if item == 3:
            raise ValueError("item 3 is bad")
        yield item

    with pytest.raises(ValueError, match="item 3 is bad"):
        list(threaded(work, range(6), threads=2, waiting=1, name="t"))
    assert not [t for t in threading.enumerate() if t.name.startswith("t-")]


def test_the_threads_stop_when_the_caller_stops_reading():
    produced: list[int] = []

    def work(item: int):
        produced.append(item)
        yield item

    results = threaded(work, range(1000), threads=2, waiting=1, name="stopping")
    assert next(results) in (0, 1)
    results.close()

    assert not [t for t in threading.enumerate() if t.name.startswith("stopping-")]
    assert len(produced) < 10

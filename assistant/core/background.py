"""Work handed to threads, its results handed back to the calling thread as they come."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_END = object()


def threaded(
    work: Callable[[T], Iterable[R]],
    items: Sequence[T],
    *,
    threads: int,
    waiting: int,
    name: str,
    start: Callable[[], None] | None = None,
) -> Iterator[R]:
    """What `work` yields for each of `items`, computed on `threads` threads, each taking the
    next item when it is done with one (after running `start` once, if given).

    The results of one item come in order; those of items on different threads interleave.
    At most `waiting` results wait for the caller. An exception raised on a thread is raised
    here, and the threads stop when the caller stops reading.
    """
    pending: queue.SimpleQueue[T] = queue.SimpleQueue()
    for item in items:
        pending.put(item)
    results: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=waiting)
    stop = threading.Event()

    def hand_over(result: object, error: BaseException | None = None) -> bool:
        while not stop.is_set():
            try:
                results.put((result, error), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            if start is not None:
                start()
            while not stop.is_set():
                try:
                    item = pending.get_nowait()
                except queue.Empty:
                    break
                for result in work(item):
                    if not hand_over(result):
                        return
        except BaseException as exc:  # noqa: BLE001 - raised in the calling thread
            hand_over(None, exc)
            return
        hand_over(_END)

    workers = [threading.Thread(target=run, name=f"{name}-{n}", daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    finished = 0
    try:
        while finished < len(workers):
            result, error = results.get()
            if error is not None:
                raise error
            if result is _END:
                finished += 1
                continue
            yield result  # type: ignore[misc]
    finally:
        stop.set()
        for worker in workers:
            worker.join()

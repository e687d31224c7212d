"""Concurrent what-if requests share one computation (dashboard.whatif_batch)."""
from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from dashboard.whatif_batch import Coalescer


def test_concurrent_submits_are_computed_together_in_order() -> None:
    batches: list[list[int]] = []

    def compute(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        time.sleep(0.05)  # while this batch runs, the others queue up
        return [i * 10 for i in items]

    coalescer = Coalescer(compute)
    results: dict[int, int] = {}
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, coalescer.submit(i)))
               for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: i * 10 for i in range(16)}
    assert sorted(i for batch in batches for i in batch) == list(range(16))
    assert len(batches) < 16  # some requests shared a computation


def test_a_failing_batch_fails_its_requests_and_the_next_batch_runs() -> None:
    def compute(items: Sequence[int]) -> list[int]:
        if -1 in items:
            raise ValueError("bad batch")
        return list(items)

    coalescer = Coalescer(compute)
    with pytest.raises(ValueError, match="bad batch"):
        coalescer.submit(-1)
    assert coalescer.submit(7) == 7


def test_a_starting_batch_waits_for_requests_inside_but_a_lone_one_does_not() -> None:
    batches: list[list[int]] = []

    def compute(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        return list(items)

    coalescer = Coalescer(compute, linger=10.0)
    started = time.monotonic()
    with coalescer.inside():
        assert coalescer.submit(1) == 1
    assert time.monotonic() - started < 5.0  # alone inside: no waiting for the window

    second_inside = threading.Event()

    def late_request() -> None:
        with coalescer.inside():
            second_inside.set()
            time.sleep(0.2)  # its own checks, while the first request's batch lingers
            coalescer.submit(3)

    with coalescer.inside():
        thread = threading.Thread(target=late_request)
        thread.start()
        second_inside.wait()
        assert coalescer.submit(2) == 2
    thread.join()
    assert batches == [[1], [2, 3]]

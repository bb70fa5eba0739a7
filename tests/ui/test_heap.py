"""The start-up heap settling that keeps full garbage collections short."""

from __future__ import annotations

import gc
import weakref

import pytest

from outbound_desk.ui.heap import settle_after_startup


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def unfreeze():
    yield
    gc.unfreeze()  # the test process must not keep its test objects frozen


def _tracked(obj: object) -> bool:
    """Whether the collector still walks *obj* (frozen objects are left out of its lists)."""
    return any(o is obj for o in gc.get_objects())


def test_objects_alive_at_start_up_are_frozen_and_garbage_is_collected_first(unfreeze):
    alive = [_Node()]
    garbage = _Node()
    gone = weakref.ref(garbage)
    del garbage
    assert _tracked(alive)
    frozen = settle_after_startup()
    # A frozen object freed since (another thread's) leaves the permanent generation: the
    # count can only have gone down.
    assert 0 < gc.get_freeze_count() <= frozen
    assert gone() is None  # the cycle was collected, not frozen for good
    assert not _tracked(alive)
    later = [_Node()]
    assert _tracked(later)  # what comes and goes afterwards is still collected

"""Derived data brought up to date once per piece of work, not once per save.

Receivers that rebuild derived rows after a save (the person index, rebuilt
from its record) hand the rebuild to ``derived_work``. Outside a
``derived_work_merged`` block it runs at once, as before. Inside one, each
rebuild is kept under its key and run once as the block ends, still inside
the caller's transaction: a service that saves a record and then rows that
follow it (a referral, its people and its first event) rebuilds the record's
rows once, from everything it wrote, instead of once per save.

A block left by an exception runs nothing: the transaction it was in is
rolled back with the saves that asked for the work.
"""

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_waiting: ContextVar[dict | None] = ContextVar("derived_waiting", default=None)


@contextmanager
def derived_work_merged() -> Iterator[None]:
    """Run the derived work asked for in this block once per key, at its end.
    Nested blocks join the outermost one."""
    if _waiting.get() is not None:
        yield
        return
    waiting: dict[Hashable, Callable[[], object]] = {}
    token = _waiting.set(waiting)
    try:
        yield
    finally:
        _waiting.reset(token)
    # Reached only when the block ended without an exception. Work that
    # these rebuilds ask for in turn runs at once (the block is closed).
    for work in waiting.values():
        work()


def derived_work(key: Hashable, work: Callable[[], object]) -> None:
    """Run ``work`` now, or once at the end of the enclosing merged block
    (the last ``work`` given for ``key`` runs, in the order keys were first
    asked for)."""
    waiting = _waiting.get()
    if waiting is None:
        work()
    else:
        waiting[key] = work

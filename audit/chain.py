"""Hash chains: each row's hash covers its content and the previous row's hash.

Shared by the audit log (an HMAC under a key kept outside the database, see
audit.keys) and by agreement acknowledgements (a plain SHA-256). A model taking
part has ``previous_hash`` and ``hash`` fields and a ``compute_hash()`` method.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connection, transaction

GENESIS_HASH = "0" * 64


def chain_lock(lock_key: int) -> None:
    """Hold a chain's append lock until the current transaction ends.

    An advisory lock on PostgreSQL; SQLite's write transactions are IMMEDIATE
    (settings), which serialises writers without one.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key])


def chain_try_lock(lock_key: int) -> bool:
    """Take a chain's append lock until the current transaction ends, if no
    other session holds it; never waits. Always True on SQLite (see above)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key])
        return cursor.fetchone()[0]


def chain_try_session_lock(lock_key: int) -> bool:
    """Take a chain's append lock for this session, if no other session holds
    it; never waits. For work done outside a transaction and committed before
    ``chain_unlock``: it costs no BEGIN and COMMIT when the lock is taken."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_key])
        return cursor.fetchone()[0]


def chain_unlock(lock_key: int) -> None:
    """Release a lock ``chain_try_session_lock`` took."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key])


def chain_append(instance, *, lock_key: int, before_hash: Callable | None = None):
    """Link ``instance`` to the newest row of its table and insert it.

    One lock per chain, so two writers never hash onto the same row: an
    advisory lock on PostgreSQL; on SQLite write transactions are IMMEDIATE
    (settings), which serialises them. ``before_hash`` runs under the lock,
    for values (like a timestamp) that must follow the chain's order.
    """
    model = type(instance)
    with transaction.atomic():
        chain_lock(lock_key)
        last = model.objects.order_by("-id").values_list("hash", flat=True).first()
        instance.previous_hash = last or GENESIS_HASH
        if before_hash is not None:
            before_hash(instance)
        instance.hash = instance.compute_hash()
        instance.save(force_insert=True)
    return instance


class HashUnverifiable(Exception):
    """A row's hash cannot be recomputed here (its signing key is not known)."""


@dataclass(frozen=True)
class ChainProblem:
    row: Any
    reason: str
    kind: Literal["link", "hash", "rule"]

    @property
    def row_id(self) -> int:
        return self.row.id


def chain_verify(
    model,
    *,
    batch_size: int = 2000,
    check_row: Callable[[Any, int], str | None] | None = None,
    rows: Iterable | None = None,
    previous: str = GENESIS_HASH,
    start: int = 1,
    after_id: int = 0,
) -> ChainProblem | None:
    """Recompute the chain in id order; return the first broken row, if any.

    ``check_row(row, position)`` runs on each row whose link and hash are
    sound (position counts from ``start``), for rules of one chain alone; it
    returns why the row is wrong, or None. A chain whose oldest rows were
    moved elsewhere (the audit log's sealed segments) continues from
    ``previous``, with the table's rows after ``after_id`` or the given
    ``rows``.
    """
    expected_previous = previous
    if rows is None:
        rows = _rows_in_order(model, batch_size, after_id)
    for position, row in enumerate(rows, start=start):
        if row.previous_hash != expected_previous:
            return ChainProblem(
                row, "its link to the row before it does not match", "link"
            )
        try:
            if row.compute_hash() != row.hash:
                return ChainProblem(row, "its content does not match its hash", "hash")
        except HashUnverifiable as exc:
            return ChainProblem(row, str(exc), "rule")
        if check_row is not None:
            reason = check_row(row, position)
            if reason:
                return ChainProblem(row, reason, "rule")
        expected_previous = row.hash
    return None


def _rows_in_order(model, batch_size: int, after_id: int = 0) -> Iterator:
    last_id = after_id
    while True:
        batch = list(model.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id

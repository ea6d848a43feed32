"""Hash chains: each row's SHA-256 covers its content and the previous row's hash.

Shared by the audit log and by agreement acknowledgements. A model taking part
has ``previous_hash`` and ``hash`` fields and a ``compute_hash()`` method.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction

GENESIS_HASH = "0" * 64


def chain_append(instance, *, lock_key: int, before_hash: Callable | None = None):
    """Link ``instance`` to the newest row of its table and insert it.

    One lock per chain, so two writers never hash onto the same row: an
    advisory lock on PostgreSQL; on SQLite write transactions are IMMEDIATE
    (settings), which serialises them. ``before_hash`` runs under the lock,
    for values (like a timestamp) that must follow the chain's order.
    """
    model = type(instance)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key])
        last = model.objects.order_by("-id").values_list("hash", flat=True).first()
        instance.previous_hash = last or GENESIS_HASH
        if before_hash is not None:
            before_hash(instance)
        instance.hash = instance.compute_hash()
        instance.save(force_insert=True)
    return instance


@dataclass(frozen=True)
class ChainProblem:
    row_id: int
    reason: str


def chain_verify(model, *, batch_size: int = 2000) -> ChainProblem | None:
    """Recompute the chain in id order; return the first broken row, if any."""
    expected_previous = GENESIS_HASH
    for row in _rows_in_order(model, batch_size):
        if row.previous_hash != expected_previous:
            return ChainProblem(row.id, "its link to the row before it does not match")
        if row.compute_hash() != row.hash:
            return ChainProblem(row.id, "its content does not match its hash")
        expected_previous = row.hash
    return None


def _rows_in_order(model, batch_size: int) -> Iterator:
    last_id = 0
    while True:
        batch = list(model.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id

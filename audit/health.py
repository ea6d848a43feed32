"""Health of the audit log's writing: can the chain's lock be taken?

Events join the chain under one lock (audit.chain). Writers never wait for
it (audit.services), but a session that took it and never finished (a stuck
transaction) stops chaining: events pile up pending and readers of the log
wait a second each. The load balancer should hear of it.
"""

from django.conf import settings
from django.db import OperationalError, connection, transaction

from .services import audit_chain_lock


def chain_lock_check() -> str:
    """ "ok" when the lock can be taken within the health timeout, "stuck" when
    someone has held it longer. Chainers hold it for milliseconds."""
    if connection.vendor != "postgresql":
        # SQLite: writers queue on the database's own write lock, with a
        # timeout of its own (settings); the database check covers it.
        return "ok"
    milliseconds = int(settings.HEALTH_CHECK_TIMEOUT * 1000)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # The statement may run a little longer than the wait for the
            # lock, so that a lock timeout, not a statement timeout, ends it.
            cursor.execute(f"SET LOCAL statement_timeout = {2 * milliseconds}")
            cursor.execute(f"SET LOCAL lock_timeout = {milliseconds}")
            # Released when this transaction ends, at once.
            audit_chain_lock()
    except OperationalError as error:
        if "lock timeout" in str(error):
            return "stuck"
        raise
    return "ok"

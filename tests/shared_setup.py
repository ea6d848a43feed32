"""Setting up once for a whole test module what many of its tests read.

Under pytest-django each test runs in a transaction of its own; a module-wide
fixture may open one around them all, so that its rows are made once and each
test's changes are still rolled back before the next (tests/conftest.py does
the same for the demo). tests/conftest.py puts such a module on one xdist
process (``--dist loadgroup``), which then sets it up once.
"""

from contextlib import contextmanager

from django.db import transaction


@contextmanager
def rolled_back_after_module(django_db_blocker):
    """A transaction open for the ``with`` block, rolled back at its end.

    Rolled back and closed whatever happens, a setup that fails included: a
    transaction left open would fail every later test in the same process,
    each transactional one with "You can't execute queries until the end of
    the 'atomic' block".
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)

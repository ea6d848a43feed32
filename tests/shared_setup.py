"""Setting up once for a whole test module what many of its tests read.

Under pytest-django each test runs in a transaction of its own; a module-wide
fixture may open one around them all, so that its rows are made once and each
test's changes are still rolled back before the next (tests/conftest.py does
the same for the demo). tests/conftest.py puts such a module on one xdist
process (``--dist loadgroup``), which then sets it up once.
"""

import dataclasses
from contextlib import contextmanager

from django.core.files.base import ContentFile
from django.db import models, transaction


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


def read_again(value):
    """``value`` with each model instance in it read again from the database.

    For a world made once for a module (``rolled_back_after_module``) and
    handed to each test: the test's rows are rolled back after it, but an
    instance it changed in memory would otherwise reach the next test as it
    left it. Dicts, lists, tuples and dataclasses are copied with their
    instances read again; anything else is passed through as it is.
    """
    if isinstance(value, models.Model):
        return type(value)._base_manager.get(pk=value.pk)
    if isinstance(value, dict):
        return {key: read_again(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(read_again(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(
            value,
            **{
                field.name: read_again(getattr(value, field.name))
                for field in dataclasses.fields(value)
                if field.init
            },
        )
    return value


def stored_files_kept() -> list:
    """A copy of every stored file that rows in the database refer to now
    (files.stored), for ``stored_files_put_back``."""
    from files.stored import stored_kinds, stored_names

    files = []
    for kind in stored_kinds():
        names = list(stored_names(kind.storage, kind.prefix))
        for name in kind.referenced(names) if names else []:
            with kind.storage.open(name, "rb") as stored:
                files.append((kind.storage, name, stored.read()))
    return files


def stored_files_put_back(files: list) -> None:
    """Write back those of ``files`` that an earlier test deleted: a test's
    rows are rolled back after it, but not its storage."""
    for storage, name, content in files:
        if not storage.exists(name):
            assert storage.save(name, ContentFile(content)) == name

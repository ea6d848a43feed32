"""Handlers that keep data in step after ``migrate``, run once per migrate.

Django sends ``post_migrate`` once for every installed app with models (34
here), and a handler connected without a sender runs each time: the role
groups and page permissions were made again 34 times per migrate, which was
more than half of what a test process with a reused database spent starting.
Run after the last app's signal instead, every app's content types and
permissions exist, as the last of the 34 runs found them.
"""

import functools
from collections.abc import Callable

from django.apps import apps
from django.db.models.signals import post_migrate


def connect_once_per_migrate(handler: Callable, *, dispatch_uid: str) -> None:
    """Connect ``handler`` to ``post_migrate`` for the last app it is sent for."""

    @functools.wraps(handler)
    def after_the_last_app(sender, **kwargs):
        with_models = [c for c in apps.get_app_configs() if c.models_module]
        if with_models and sender is with_models[-1]:
            handler(sender=sender, **kwargs)

    # A closure: held strongly, or it would be collected at once.
    post_migrate.connect(after_the_last_app, weak=False, dispatch_uid=dispatch_uid)

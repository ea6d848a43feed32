"""Who made an account change, for the one audit event each change writes.

The events are written by receivers of the saves and group changes themselves
(accounts.receivers), so that the Wagtail admin, a single point of contact's
screen, a job and a management command are covered alike. A receiver is not
told who is acting, so it asks here:

- code that acts for someone outside a request (a job, a command acting on a
  person's behalf) says so with ``changes_made_by``;
- otherwise the request being served is used (``current_request``, set by the
  gate middleware), with its signed-in person as the actor;
- otherwise the change was made from the command line or by the system, and
  the event says which command, with no actor.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from django.http import HttpRequest


@dataclass(frozen=True)
class ChangeSource:
    actor: object | None  # a User, or None for the system
    via: str  # "admin", "portal", "job:<name>", "command:<name>" or "system"
    request: HttpRequest | None = None


_acting: ContextVar[ChangeSource | None] = ContextVar("account_change_by", default=None)


@contextmanager
def changes_made_by(*, via: str, actor=None) -> Iterator[None]:
    """Account changes made inside are recorded as made by ``actor`` (None for
    the system) through ``via``, such as ``"job:recertify_accounts"``."""
    token = _acting.set(ChangeSource(actor=actor, via=via))
    try:
        yield
    finally:
        _acting.reset(token)


def change_source() -> ChangeSource:
    # Imported here: the middleware imports the views, which need the apps.
    from .middleware import current_request

    request = current_request.get()
    explicit = _acting.get()
    if explicit is not None:
        # The request's address and browser too, when it is theirs.
        user = getattr(request, "user", None)
        if explicit.actor is not None and user == explicit.actor:
            return ChangeSource(explicit.actor, explicit.via, request)
        return explicit
    if request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        via = "admin" if request.path_info.startswith("/admin/") else "portal"
        return ChangeSource(actor=actor, via=via, request=request)
    return ChangeSource(actor=None, via=_command_name())


def _command_name() -> str:
    """``command:<name>`` under ``manage.py <name>``, else ``system``."""
    argv = sys.argv
    if len(argv) > 1 and Path(argv[0]).name in {"manage.py", "django-admin"}:
        return f"command:{argv[1]}"[:60]
    return "system"

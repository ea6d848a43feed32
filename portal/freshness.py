"""Knowing, on every app server at once, that cached work is out of date.

A cached value's key carries the current token of the data it was built from.
Changing that data replaces the token in the shared cache (Redis in
production), so every server stops finding the old value at once: nothing is
deleted and no server keeps its own copy. A token missing from the cache (it
was evicted, or the cache was emptied) is simply made again, which also misses.

The portal's own data (accounts, agreements, referrals, meetings, documents and
pages), and what decides who may see it (groups, their permissions and
Wagtail's page privacy), outdates the "portal" token whenever a row is saved
or deleted (``portal.apps``). Writes that send no signal (``QuerySet.update``,
``bulk_create``, raw SQL) outdate nothing, so a cache must never be what
decides access: ``portal.page_cache`` checks page privacy again on every
answer. The audit log and sessions are not portal data: writing them
on every request must not empty every cache. Downloads of shared files (who
opened what) have a token of their own, "openings", read only by what shows
which files are new.

While the shared cache is unreachable (``portal.redis_cache``), a token read
finds nothing and is made afresh, so nothing cached is served as fresh. An
outdating that the cache did not take is kept in this process and sent again
as each request starts, so that once the cache is back no other server goes on
serving what was cached before the change (docs/caching.md).
"""

import functools
import hashlib
from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar
from urllib.parse import quote
from uuid import uuid4

from django.core.cache import cache
from django.db import transaction

PREFIX = "freshness:"
PORTAL = "portal"
# Who has opened which shared file: written on every download, read only by
# the "new files" markers. Its own token, so downloads do not empty every
# cache in the portal (the ISA decision, pages, lists) many times a minute.
OPENINGS = "openings"
SEPARATE_MODELS = {"documents.filedownload": OPENINGS}

# Apps whose rows feed cached pages. Audit events, sessions and OTP devices
# change on most requests and feed none of them.
WATCHED_APPS = frozenset(
    {"accounts", "agreements", "referrals", "meetings", "documents", "partners", "home"}
)
# Who may see what, outside those apps: groups and their permissions (roles,
# the admin link), Wagtail's page privacy (a restriction on a page covers every
# page below it) and page rows saved without their specific type (a move saves
# the plain page, and a move can put a page under a restriction). Their
# many-to-many tables (a restriction's groups, a group's permissions) count
# too (``_is_through_of_watched``).
WATCHED_MODELS = frozenset(
    {
        "auth.group",
        "auth.permission",
        "wagtailcore.page",
        "wagtailcore.pageviewrestriction",
        "wagtailcore.grouppagepermission",
    }
)
# Saves of only these fields feed no cached page: signing in stamps
# last_login, and must not empty every cache.
BOOKKEEPING_FIELDS = frozenset({"last_login"})


# Tokens already read during the current request (None outside a request).
# A page asks for the token several times (the ISA decision, a list, the
# menu); one read per request is enough, and is what the request would have
# seen had it run a moment earlier. Emptied as each request starts and ends
# (portal.apps); this process's own changes update it at once.
_read = ContextVar("freshness_read", default=None)
# Values ``remember`` answered during the current request, by their full key.
_remembered = ContextVar("freshness_remembered", default=None)


def token(name: str = PORTAL) -> str:
    """The current token for ``name``; read it before reading the data."""
    read = _read.get()
    if read is not None and name in read:
        return read[name]
    value = cache.get_or_set(PREFIX + name, uuid4().hex, timeout=None)
    if read is not None:
        read[name] = value
    return value


def tokens(*names: str) -> tuple[str, ...]:
    """The current tokens for ``names``, read in one round trip: as
    ``token`` for each, for a page that needs several."""
    read = _read.get()
    known = dict(read or {})
    missing = [name for name in names if name not in known]
    if missing:
        found = cache.get_many([PREFIX + name for name in missing])
        for name in missing:
            known[name] = found.get(PREFIX + name) or token(name)
            if read is not None:
                read[name] = known[name]
    return tuple(known[name] for name in names)


_tokens = tokens  # for remember(), whose keyword argument has the same name


# Tokens whose replacement the shared cache did not take (it was unreachable).
_unsent: set[str] = set()


def request_started(**kwargs) -> None:
    _read.set({})
    _remembered.set({})
    for name in list(_unsent):
        _replace(name)


def request_finished(**kwargs) -> None:
    _read.set(None)
    _remembered.set(None)


T = TypeVar("T")


def remember(parts, build: Callable[[], T], seconds: int, *, tokens=(PORTAL,)) -> T:
    """``build()``'s value, shared by every server under ``parts`` and the
    current ``tokens`` for ``seconds`` at most, or until the data they stand
    for changes.

    ``parts`` must name everything else the value depends on: who it is for
    (see ``audience``), which page, and so on.
    """
    key = ":".join(["remember", *_tokens(*tokens), *map(str, parts)])
    # Asked again in the same request (the ISA decision: the view, its
    # selectors, the menu): answered from the request, with no round trip.
    # A change in between replaces a token, and so the key.
    kept = _remembered.get()
    if kept is not None and key in kept:
        return kept[key]
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, seconds)
    if kept is not None:
        kept[key] = value
    return value


def audience(user) -> tuple:
    """What decides which rows a signed-in person may see: organisation,
    whether the account is active, administrator or not, and roles. People
    alike in these are shown the same lists."""
    return (
        user.organisation_id or 0,
        int(user.is_active),
        int(user.is_superuser),
        # Percent-encoded: a role's name may hold spaces ("Data protection
        # officers"), which cache keys must not (memcached refuses them).
        quote(",".join(sorted(user.role_names)), safe=","),
    )


def row_digest(instance) -> str:
    """A digest of a model instance's row as read, for a key part of a value
    built from it: a write that sent no signal (``QuerySet.update``) replaces
    no token, but still changes the row."""
    values = repr(
        [getattr(instance, field.attname) for field in instance._meta.concrete_fields]
    )
    return hashlib.sha256(values.encode()).hexdigest()[:32]


def outdate(name: str = PORTAL) -> None:
    """Drop everything cached under ``name``: now, and again once the current
    transaction commits, so a value cached from data read in between (before
    the change was visible to others) is dropped too.

    A token in ``AT_COMMIT`` is replaced in the shared cache only when the
    transaction commits: one round trip instead of two (below)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _replace(name)  # the change is committed already
        return
    if name in AT_COMMIT:
        _outdate_here(name)
    else:
        _replace(name)
    committed = _on_commit(name)
    # Once per transaction, however many rows it changes.
    if not any(entry[1] is committed for entry in connection.run_on_commit):
        transaction.on_commit(committed)


# Tokens replaced in the shared cache once, when the change commits. Until
# then no other connection can read the change, so a value another server
# builds before the commit is right for the data it can see, and the
# replacement at commit drops it with the rest; replacing the token at once
# as well would only cost a second round trip. Only the request making the
# change could read it early, so its own reads stop using the old token at
# once (``_outdate_here``). "openings" is replaced by every download, and
# nothing a download does after recording it reads what the token stands for.
AT_COMMIT = frozenset({OPENINGS})


def _outdate_here(name: str) -> None:
    """Stop this request using the current ``name`` token, without telling
    the shared cache: its reads until the commit use a token no one else has,
    so they miss, and what they keep is never read by anyone else."""
    read = _read.get()
    if read is not None:
        read[name] = uuid4().hex


def _replace(name: str) -> None:
    value = uuid4().hex
    # portal.redis_cache answers False when Redis did not take the value;
    # other backends answer None or raise.
    if cache.set(PREFIX + name, value, timeout=None) is False:
        _unsent.add(name)
    else:
        _unsent.discard(name)
    read = _read.get()
    if read is not None:
        read[name] = value


@functools.cache
def _on_commit(name: str):
    def outdate_on_commit():
        _replace(name)

    return outdate_on_commit


def outdate_on_change(sender, **kwargs) -> None:
    """Receiver for post_save, post_delete and m2m_changed, connected for the
    models ``models_watched`` names."""
    if kwargs.get("raw"):
        return
    update_fields = kwargs.get("update_fields")
    if update_fields and set(update_fields) <= BOOKKEEPING_FIELDS:
        return
    separate = SEPARATE_MODELS.get(sender._meta.label_lower)
    if separate is not None:
        outdate(separate)
    elif _is_watched(sender) or _is_through_of_watched(sender):
        outdate()


def models_watched(models):
    """The models whose saves, deletes and many-to-many changes outdate a
    token: ``outdate_on_change`` is connected to these alone (portal.apps)."""
    return [
        model
        for model in models
        if model._meta.label_lower in SEPARATE_MODELS
        or _is_watched(model)
        or _is_through_of_watched(model)
    ]


def _is_watched(model) -> bool:
    meta = model._meta
    return meta.app_label in WATCHED_APPS or meta.label_lower in WATCHED_MODELS


def _is_through_of_watched(sender) -> bool:
    # m2m_changed sends the through model: a user's groups (roles), a group's
    # permissions, a view restriction's groups.
    return sender._meta.auto_created and any(
        field.related_model is not None and _is_watched(field.related_model)
        for field in sender._meta.fields
    )


def outdate_on_publish(sender, **kwargs) -> None:
    """Receiver for Wagtail's page_published and page_unpublished."""
    outdate()


def cache_answers() -> bool:
    """Whether the shared cache takes a value and gives it back (the health
    check): a throwaway key, removed again."""
    key = f"{PREFIX}health:{uuid4().hex}"
    cache.set(key, "1", timeout=5)
    answered = cache.get(key) == "1"
    cache.delete(key)
    return answered

"""Stored objects that cannot be orphaned: one way to write, sweep and check
every kind of file the portal keeps (docs/architecture.md, "Stored files").

The file layer knows no domain app: each app registers its kinds in its
``AppConfig.ready`` with ``kind_register`` (model, file field, folder, hash).

Writing (``object_write``), for every kind:

1. a ``PendingObject`` row naming the file commits in its own transaction;
2. the file is written (a failed or partial write is deleted at once);
3. the caller's transaction saves the row that refers to the file and calls
   ``objects_kept``, which removes the pending marks when it commits;
4. if that transaction fails, ``objects_abandon`` deletes the files that no
   committed row refers to. A commit whose reply was lost has committed: its
   files are kept. When the database cannot be asked, nothing is deleted and
   the marks stay for the sweeper.

So a crash anywhere leaves a committed row with its file, or a pending mark
the sweeper resolves once it is older than the grace period.
"""

import contextlib
import dataclasses
import errno
import hashlib
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core.files.storage import Storage
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from .audit_actions import FileAction

logger = logging.getLogger(__name__)

# Names checked against the database per query while sweeping or verifying.
BATCH = 500


@dataclass(frozen=True)
class StoredKind:
    """One kind of stored file: the model and field that refer to it."""

    name: str  # short label used in audit events and reports
    model: str  # "app_label.ModelName"
    prefix: str  # the storage folder every file of this kind is under
    field: str = "file"
    hash_field: str = ""  # the row's digest of the file, if it keeps one
    hash_algorithm: str = "sha256"
    # Rows whose file must exist; others (a purged share) keep only the name.
    live: dict = dataclasses.field(default_factory=dict)

    @property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    @property
    def storage(self) -> Storage:
        return self.model_class._meta.get_field(self.field).storage

    def rows(self) -> models.QuerySet:
        """Rows whose file must be in storage."""
        return self.model_class._default_manager.filter(**self.live).exclude(
            **{self.field: ""}
        )

    def referenced(self, names: list[str]) -> set[str]:
        return set(
            self.rows()
            .filter(**{f"{self.field}__in": names})
            .values_list(self.field, flat=True)
        )


_KINDS: dict[str, StoredKind] = {}


def kind_register(kind: StoredKind) -> None:
    _KINDS[kind.name] = kind


def stored_kinds() -> list[StoredKind]:
    return list(_KINDS.values())


def kind_for(model: type[models.Model], field_name: str) -> StoredKind:
    for kind in _KINDS.values():
        if kind.model_class is model and kind.field == field_name:
            return kind
    raise LookupError(f"{model._meta.label}.{field_name} is not a registered kind")


class StorageUnavailable(OSError):
    """The file could not be written; nothing was kept. ``message`` is plain
    language for the person, saying what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


FULL_MESSAGE = (
    "The portal's file store is full or cannot be written to just now, so "
    "nothing was saved. Try again later. If this keeps happening, tell the "
    "CMARAC coordinator."
)
UNAVAILABLE_MESSAGE = (
    "The portal's file store could not be reached just now, so nothing was "
    "saved. Try again in a few minutes. If this keeps happening, tell the "
    "CMARAC coordinator."
)


def _message_for(error: BaseException) -> str:
    if isinstance(error, OSError) and error.errno in (
        errno.ENOSPC,
        errno.EROFS,
        errno.EDQUOT,
    ):
        return FULL_MESSAGE
    return UNAVAILABLE_MESSAGE


def object_write(
    instance: models.Model, field_name: str, content, *, filename: str = ""
) -> str:
    """Write ``content`` for ``instance.<field_name>`` and return its name.

    Call it before (outside) the transaction that saves ``instance``, then
    call ``objects_kept`` inside that transaction and ``objects_abandon`` if it
    fails. Raises StorageUnavailable when storage refuses or fails the write.
    """
    from .models import PendingObject

    kind = kind_for(type(instance), field_name)
    file_field = instance._meta.get_field(field_name)
    storage = file_field.storage
    try:
        # On S3 this asks whether the name is taken: the first call to fail.
        name = storage.get_available_name(
            file_field.generate_filename(instance, filename or "upload"),
            max_length=file_field.max_length,
        )
    except Exception as error:
        logger.exception("Could not reach storage for a %s", kind.name)
        raise StorageUnavailable(_message_for(error)) from error
    with transaction.atomic():
        PendingObject.objects.create(name=name, kind=kind.name)
    if hasattr(content, "seek"):
        content.seek(0)
    try:
        stored = storage.save(name, content, max_length=file_field.max_length)
    except Exception as error:
        # A partial or empty file may be left (a full disk stops mid-write).
        _delete_quietly(storage, name)
        _forget_quietly([name])
        logger.exception("Could not write a %s to storage", kind.name)
        raise StorageUnavailable(_message_for(error)) from error
    if stored != name:  # the storage chose another name: keep the mark true
        PendingObject.objects.filter(name=name).update(name=stored)
    setattr(instance, file_field.attname, stored)
    getattr(instance, field_name)._committed = True
    return stored


def objects_kept(names: list[str]) -> None:
    """Inside the transaction that saved the rows: clear the marks on commit."""
    from .models import PendingObject

    names = list(names)
    if names:
        transaction.on_commit(
            lambda: PendingObject.objects.filter(name__in=names).delete()
        )


def objects_abandon(kind: StoredKind, names: list[str]) -> set[str]:
    """After the saving transaction failed: delete the files no committed row
    refers to; returns the names that a committed row does refer to (a commit
    whose reply was lost), which are kept. If the database cannot be asked,
    nothing is deleted: the sweeper decides later from the pending marks."""
    names = [name for name in names if name]
    if not names:
        return set()
    try:
        committed = kind.referenced(names)
    except DatabaseError:
        logger.warning("Could not check %d %s files; left for the sweeper",
                       len(names), kind.name)  # fmt: skip
        return set()
    for name in names:
        if name not in committed:
            _delete_quietly(kind.storage, name)
    _forget_quietly(names)
    return committed


def object_present(kind: StoredKind, row: models.Model, *, check_hash=True) -> bool:
    """Whether the row's file is in storage (and matches its stored digest)."""
    name = getattr(row, kind.field).name
    storage = kind.storage
    try:
        if not storage.exists(name):
            return False
        expected = getattr(row, kind.hash_field, "") if kind.hash_field else ""
        if not (check_hash and expected):
            return True
        return object_digest(storage, name, kind.hash_algorithm) == expected
    except OSError:
        return False


def object_digest(storage: Storage, name: str, algorithm: str = "sha256") -> str:
    from .storage import stream_chunks

    digest = hashlib.new(algorithm)
    with stream_chunks(storage, name) as chunks:
        for chunk in chunks:
            digest.update(chunk)
    return digest.hexdigest()


def objects_delete(kind: StoredKind, names: list[str]) -> None:
    """Delete the stored objects of rows the caller's transaction deletes,
    once it commits (a rollback keeps rows and files together). An object
    that cannot be deleted then is unreferenced, so ``storage_sweep`` deletes
    it after the grace period."""
    names = [name for name in names if name]
    if not names:
        return
    storage = kind.storage

    def delete():
        for name in names:
            _delete_quietly(storage, name)

    transaction.on_commit(delete)


def _delete_quietly(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        logger.exception("Could not delete stored object %s", name)


def _forget_quietly(names: list[str]) -> None:
    from .models import PendingObject

    try:
        PendingObject.objects.filter(name__in=names).delete()
    except DatabaseError:
        logger.warning("Could not clear pending marks; the sweeper will")


# The sweeper ----------------------------------------------------------------


def stored_names(storage: Storage, folder: str) -> Iterator[str]:
    """Every file under ``folder``, on local disk and S3 alike (listdir)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from stored_names(storage, f"{folder}/{sub}")


@dataclass
class SweepResult:
    dry_run: bool
    # Per kind: files deleted because no row refers to them, and pending marks
    # resolved (by deleting their file, or clearing the mark of a kept one).
    orphans: Counter = dataclasses.field(default_factory=Counter)
    abandoned: Counter = dataclasses.field(default_factory=Counter)
    confirmed: Counter = dataclasses.field(default_factory=Counter)

    @property
    def deleted(self) -> int:
        return sum(self.orphans.values()) + sum(self.abandoned.values())

    def detail(self) -> dict:
        return {
            kind.name: {
                "orphans": self.orphans[kind.name],
                "abandoned": self.abandoned[kind.name],
                "confirmed": self.confirmed[kind.name],
            }
            for kind in stored_kinds()
        } | {"dry_run": self.dry_run}


def storage_sweep(
    *,
    now: datetime | None = None,
    grace: timedelta | None = None,
    dry_run: bool = False,
) -> SweepResult:
    """Delete stored files no row refers to, once older than the grace period
    (``STORAGE_SWEEP_GRACE_HOURS`` unless given), for every registered kind;
    one audit event per run (counts only)."""
    from audit.services import audit_record

    from .models import PendingObject

    now = now or timezone.now()
    if grace is None:
        grace = timedelta(hours=settings.STORAGE_SWEEP_GRACE_HOURS)
    cutoff = now - grace
    result = SweepResult(dry_run=dry_run)
    stale = PendingObject.objects.filter(created_at__lt=cutoff)
    for mark in list(stale):
        kind = _KINDS.get(mark.kind)
        if kind is None:
            logger.warning("Pending mark %s of unknown kind %s", mark.pk, mark.kind)
            continue
        if kind.referenced([mark.name]):
            result.confirmed[kind.name] += 1
        else:
            if not dry_run:
                _delete_checked(kind.storage, mark.name)
            result.abandoned[kind.name] += 1
        if not dry_run:
            PendingObject.objects.filter(pk=mark.pk).delete()
    # Files written before pending marks existed, by Wagtail's own forms, or
    # whose mark was lost: found by listing each kind's folder.
    in_progress = set(
        PendingObject.objects.filter(created_at__gte=cutoff).values_list(
            "name", flat=True
        )
    )
    for kind in stored_kinds():
        storage = kind.storage
        batch: list[str] = []
        for name in stored_names(storage, kind.prefix):
            batch.append(name)
            if len(batch) >= BATCH:
                _sweep_batch(kind, storage, batch, cutoff, in_progress, result)
                batch = []
        if batch:
            _sweep_batch(kind, storage, batch, cutoff, in_progress, result)
    audit_record(action=FileAction.STORAGE_SWEPT, detail=result.detail())
    return result


def _sweep_batch(kind, storage, batch, cutoff, in_progress, result) -> None:
    known = kind.referenced(batch)
    for name in batch:
        if name in known or name in in_progress:
            continue
        if storage.get_modified_time(name) >= cutoff:
            continue  # perhaps an upload whose mark is still being written
        if not result.dry_run:
            _delete_checked(storage, name)
        logger.warning("Orphaned %s object %s%s", kind.name, name,
                       " (dry run)" if result.dry_run else " deleted")  # fmt: skip
        result.orphans[kind.name] += 1


def _delete_checked(storage: Storage, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        storage.delete(name)


# Checking a restored copy ---------------------------------------------------


@dataclass(frozen=True)
class MissingObject:
    kind: str
    pk: int
    name: str
    reason: str  # "missing" or "hash differs"


def objects_missing(*, check_hashes: bool = True) -> Iterator[MissingObject]:
    """Every row whose file is not in storage, or differs from its digest."""
    for kind in stored_kinds():
        storage = kind.storage
        for row in kind.rows().iterator(chunk_size=BATCH):
            name = getattr(row, kind.field).name
            try:
                exists = storage.exists(name)
            except OSError:
                exists = False
            if not exists:
                yield MissingObject(kind.name, row.pk, name, "missing")
            elif check_hashes and not object_present(kind, row, check_hash=True):
                yield MissingObject(kind.name, row.pk, name, "hash differs")

"""Signed checkpoints of the audit chain's head, kept outside the database.

A checkpoint says: at this time the log held N events, the newest being event
I with hash H. It is signed with the audit key (audit.keys), so whoever can
write the database can neither forge one nor make the table match one after
removing or rewriting events. ``manage.py audit_checkpoint`` appends each to a
local file and, where configured, writes it as a new object in a storage (the
private S3 bucket in production); ``verify_audit`` reads them all back.
See docs/audit.md.
"""

import hmac
import json
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from .keys import key_named, signing_key

FORMAT = 1


def utc_text(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


@dataclass(frozen=True)
class Checkpoint:
    taken_at: datetime
    events: int
    last_id: int
    last_hash: str
    # The first event signed with a key: no unkeyed event may come after it.
    first_keyed_id: int | None
    key_id: str
    signature: str = ""
    # Where it was read from, for messages; not part of what is signed.
    source: str = field(default="", compare=False)

    @classmethod
    def signed(
        cls,
        *,
        taken_at: datetime,
        events: int,
        last_id: int,
        last_hash: str,
        first_keyed_id: int | None,
    ) -> "Checkpoint":
        key = signing_key()
        unsigned = cls(
            taken_at=taken_at.astimezone(UTC),
            events=events,
            last_id=last_id,
            last_hash=last_hash,
            first_keyed_id=first_keyed_id,
            key_id=key.id,
        )
        return replace(unsigned, signature=key.sign(unsigned._payload()))

    def _fields(self) -> dict:
        return {
            "format": FORMAT,
            "taken_at": self.taken_at.isoformat(),
            "events": self.events,
            "last_id": self.last_id,
            "last_hash": self.last_hash,
            "first_keyed_id": self.first_keyed_id,
            "key_id": self.key_id,
        }

    def _payload(self) -> bytes:
        # "audit-checkpoint:" keeps a checkpoint's signature from ever being
        # taken for an event's, though both use the same key.
        text = json.dumps(self._fields(), sort_keys=True, separators=(",", ":"))
        return f"audit-checkpoint:{text}".encode()

    def signature_problem(self) -> str | None:
        """Why this checkpoint cannot be trusted, or None."""
        key = key_named(self.key_id)
        if key is None:
            return (
                f"it is signed with audit key {self.key_id}, which is not "
                "configured (DJANGO_AUDIT_HMAC_KEY or DJANGO_AUDIT_HMAC_OLD_KEYS)"
            )
        if not hmac.compare_digest(key.sign(self._payload()), self.signature):
            return "its signature does not match: it was altered after signing"
        return None

    def to_json(self) -> str:
        return json.dumps(
            {**self._fields(), "signature": self.signature},
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str, *, source: str) -> "Checkpoint":
        """Raises ValueError for anything that is not a checkpoint."""
        try:
            data = json.loads(text)
            if data["format"] != FORMAT:
                raise ValueError(f"unknown format {data['format']!r}")
            first_keyed = data["first_keyed_id"]
            return cls(
                taken_at=datetime.fromisoformat(data["taken_at"]),
                events=int(data["events"]),
                last_id=int(data["last_id"]),
                last_hash=str(data["last_hash"]),
                first_keyed_id=None if first_keyed is None else int(first_keyed),
                key_id=str(data["key_id"]),
                signature=str(data["signature"]),
                source=source,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"missing or malformed field {exc}") from exc

    @property
    def object_name(self) -> str:
        # Sorts by time; the last id keeps two checkpoints in one microsecond apart.
        return f"{self.taken_at:%Y%m%dT%H%M%S%fZ}-{self.last_id}.json"

    def __str__(self) -> str:
        return f"the checkpoint taken {utc_text(self.taken_at)} ({self.source})"


@dataclass(frozen=True)
class Unreadable:
    """A stored entry that is not a checkpoint: damaged, or not ours."""

    source: str
    reason: str


class CheckpointExists(Exception):
    pass


class CheckpointFile:
    """An append-only file of checkpoints, one JSON object a line."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.label = str(self.path)

    def write(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Append mode: each line lands at the end, whoever else has the file open.
        with self.path.open("a", encoding="utf-8") as file:
            file.write(checkpoint.to_json() + "\n")
            file.flush()
            os.fsync(file.fileno())

    def read(self) -> list[Checkpoint | Unreadable]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [
            _parse(line, f"{self.label} line {number}")
            for number, line in enumerate(lines, start=1)
            if line.strip()
        ]


class CheckpointStorage:
    """One object per checkpoint in a Django storage, never replaced.

    The existence check stops the portal itself replacing a checkpoint; the
    bucket's own protection (Object Lock, or a policy refusing deletes and
    overwrites under the prefix) stops anyone else (docs/audit.md).
    """

    def __init__(self, storage: Storage, label: str):
        self.storage = storage
        self.label = label

    def write(self, checkpoint: Checkpoint) -> None:
        name = checkpoint.object_name
        if self.storage.exists(name):
            raise CheckpointExists(f"{self.label}/{name} already exists")
        saved = self.storage.save(name, ContentFile(checkpoint.to_json().encode()))
        if saved != name:
            raise CheckpointExists(f"{self.label}/{name} was stored as {saved}")

    def read(self) -> list[Checkpoint | Unreadable]:
        try:
            _, names = self.storage.listdir("")
        except FileNotFoundError:
            return []
        entries = []
        for name in sorted(names):
            with self.storage.open(name, "rb") as file:
                text = file.read().decode("utf-8", errors="replace")
            entries.append(_parse(text, f"{self.label}/{name}"))
        return entries


def checkpoint_stores() -> list[CheckpointFile | CheckpointStorage]:
    stores: list[CheckpointFile | CheckpointStorage] = [
        CheckpointFile(settings.AUDIT_CHECKPOINT_FILE)
    ]
    alias = settings.AUDIT_CHECKPOINT_STORAGE
    if alias:
        stores.append(CheckpointStorage(storages[alias], label=f"storage {alias}"))
    return stores


def _parse(text: str, source: str) -> Checkpoint | Unreadable:
    try:
        return Checkpoint.from_json(text, source=source)
    except ValueError as exc:
        return Unreadable(source, f"it is not a checkpoint ({exc})")

"""Everything an organisation's people downloaded, for the destruction
certificate its single point of contact confirms.

Two sources, so nothing is missed: the audit log (every download of a
meeting pack, minutes, a shared file, a case summary PDF or an attachment is
an event naming the downloader's organisation) and the shared files'
own download records (``documents.FileDownload``, kept after recall). A
shared file's download is in both; the larger of the two counts is shown,
so one download is never counted twice and one missing from either source
is still listed.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from accounts.models import Organisation
from audit.models import AuditEvent, Outcome
from audit.selectors import audit_events
from documents.audit_actions import DocumentAction
from documents.models import FileDownload, SharedFile
from meetings.audit_actions import MeetingAction
from meetings.models import Meeting
from referrals.audit_actions import ReferralAction
from referrals.models import Referral, ReferralAttachment


@dataclass(frozen=True)
class Kind:
    value: str
    label: str


PACK = Kind("pack", "Meeting pack")
MINUTES = Kind("minutes", "Meeting minutes")
SHARED_FILE = Kind("shared_file", "Shared file")
SUMMARY = Kind("summary", "Case summary PDF")
ATTACHMENT = Kind("attachment", "Case attachment")
KINDS = {kind.value: kind for kind in (PACK, MINUTES, SHARED_FILE, SUMMARY, ATTACHMENT)}

# The audit events that are downloads, with the kind each one is.
DOWNLOAD_ACTIONS = {
    MeetingAction.PACK_DOWNLOADED: PACK,
    MeetingAction.MINUTES_DOWNLOADED: MINUTES,
    DocumentAction.DOWNLOADED: SHARED_FILE,
    ReferralAction.PDF_DOWNLOADED: SUMMARY,
    ReferralAction.ATTACHMENT_DOWNLOADED: ATTACHMENT,
}


def _key(kind: Kind, event: AuditEvent) -> str:
    if kind is PACK:
        # One pack per meeting and organisation: the meeting names it, and
        # the pack row itself may be gone by the time this is read.
        return str(event.detail.get("meeting", event.object_id))
    return event.object_id


def _merge(rows: dict, kind: Kind, key: str, times: int, first, last) -> None:
    row = rows.setdefault(
        (kind.value, key),
        {"kind": kind.value, "object": key, "times": 0, "first": first, "last": last},
    )
    row["times"] = max(row["times"], times)
    row["first"] = min(row["first"], first)
    row["last"] = max(row["last"], last)


def _tally(pairs: Iterable[tuple[Kind, str, object]]) -> dict:
    """(kind, key, time) for each download, as one row per kind and key."""
    counted: dict = {}
    for kind, key, at in pairs:
        entry = counted.setdefault((kind, key), [0, at, at])
        entry[0] += 1
        entry[1], entry[2] = min(entry[1], at), max(entry[2], at)
    return counted


def _labels(rows: list[dict]) -> None:
    ids: dict[str, set[int]] = {kind: set() for kind in KINDS}
    for row in rows:
        if row["object"].isdigit():
            ids[row["kind"]].add(int(row["object"]))
    meetings = Meeting.objects.in_bulk(ids[PACK.value] | ids[MINUTES.value])
    files = SharedFile.objects.select_related("share__sender_organisation").in_bulk(
        ids[SHARED_FILE.value]
    )
    referrals = Referral.objects.in_bulk(ids[SUMMARY.value])
    attachments = ReferralAttachment.objects.select_related("referral").in_bulk(
        ids[ATTACHMENT.value]
    )
    for row in rows:
        pk = int(row["object"]) if row["object"].isdigit() else None
        kind = row["kind"]
        if kind in (PACK.value, MINUTES.value):
            found = meetings.get(pk)
            label = str(found) if found else f"Meeting {row['object']}"
        elif kind == SHARED_FILE.value:
            found = files.get(pk)
            label = (
                f"{found.display_name}, from {found.share.sender_organisation}"
                if found
                else f"Shared file {row['object']}"
            )
        elif kind == SUMMARY.value:
            found = referrals.get(pk)
            label = f"Referral {found.reference}" if found else f"Case {row['object']}"
        else:
            found = attachments.get(pk)
            label = (
                f"{found.original_name}, referral {found.referral.reference}"
                if found
                else f"Attachment {row['object']}"
            )
        row["label"] = label
        row["kind_label"] = KINDS[kind].label


def downloads_of(organisation: Organisation) -> list[dict]:
    """One row per thing downloaded by ``organisation``'s people: its kind,
    what it is, how many times, first and last (ISO times), oldest first."""
    of_organisation = Q(organisation=organisation) | Q(actor__organisation=organisation)
    events = (
        audit_events()
        .filter(
            of_organisation,
            action__in=[str(action) for action in DOWNLOAD_ACTIONS],
            outcome=Outcome.SUCCESS,
        )
        .only("action", "object_id", "detail", "at")
    )
    from_log = _tally(
        (DOWNLOAD_ACTIONS[event.action], _key(DOWNLOAD_ACTIONS[event.action], event),
         event.at)
        for event in events.iterator()
    )  # fmt: skip
    records = FileDownload.objects.filter(
        Q(organisation=organisation) | Q(user__organisation=organisation)
    ).values_list("file_id", "at")
    from_records = _tally((SHARED_FILE, str(file_id), at) for file_id, at in records)
    rows: dict = {}
    for source in (from_log, from_records):
        for (kind, key), (times, first, last) in source.items():
            _merge(rows, kind, key, times, first, last)
    listed = sorted(rows.values(), key=lambda row: (row["first"], row["kind"]))
    for row in listed:
        row["first"], row["last"] = row["first"].isoformat(), row["last"].isoformat()
    _labels(listed)
    return listed

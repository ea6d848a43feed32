"""Reads for the data protection officer: who may, the person search, and the
records it finds.

Deny by default: only an active person with the data protection officer role
(``accounts.models.Role.DPO``) may use any of this. Coordinators,
administrators (superusers) and every other role may not: a superuser who
needs it must be given the role, which the user admin records.

The search reads the index (``rights.models.PersonMention``). A row is a hit
if it matches any part of the query (a name, a date of birth, a postcode, a
phone number, or an address line), and the hit says which parts it matched,
so the officer can judge whether it is the same person. On PostgreSQL free
text is searched with the full-text index and, where ``pg_trgm`` is
installed, names with similar spellings are found too; on SQLite the same
normalised forms are matched exactly.
"""

import re
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import BooleanField, Count, F, Func, Q, Value
from django.http import Http404

from accounts.models import User
from audit.models import AuditEvent
from audit.selectors import audit_events

from .matching import PersonQuery, query_variants
from .models import MentionKind, PersonMention
from .sources import SOURCES_BY_KEY, SOURCES_BY_LABEL, Source

# Enough for any one person; a query that finds more is too wide to read.
HITS_SHOWN = 300
AUDIT_EVENTS_SHOWN = 200
# How alike two names must be to be offered as a possible match (pg_trgm's
# similarity, 0 to 1). "Jon Smith" and "John Smith" are 0.6.
SIMILAR_NAME_THRESHOLD = 0.5


def may_handle_data_rights(user: User) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_data_protection_officer
    )


# PostgreSQL's full-text and trigram matching ----------------------------------


_trigram_checked: dict[str, bool] = {}


def trigram_available() -> bool:
    """Whether this PostgreSQL database has ``pg_trgm`` (migration 0002
    creates it where allowed). Asked once per process."""
    if connection.vendor != "postgresql":
        return False
    name = connection.settings_dict["NAME"]
    if name not in _trigram_checked:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            _trigram_checked[name] = cursor.fetchone() is not None
    return _trigram_checked[name]


class _TextMatches(Func):
    """``to_tsvector('simple', text) @@ to_tsquery('simple', query)``: the
    expression migration 0002's GIN index is built on."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        query, query_params = compiler.compile(self.source_expressions[1])
        sql = (
            f"(to_tsvector('simple'::regconfig, {column}) @@ "
            f"to_tsquery('simple'::regconfig, {query}))"
        )
        return sql, [*column_params, *query_params]


class _NameSimilar(Func):
    """``name % query`` (served by the trigram index), then a stricter
    similarity than pg_trgm's default, so few different people come back."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        query, query_params = compiler.compile(self.source_expressions[1])
        sql = (
            f"({column} %% {query} AND similarity({column}, {query}) >= "
            f"{SIMILAR_NAME_THRESHOLD})"
        )
        return sql, [*column_params, *query_params, *query_params]


# The search --------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One thing a query asks, as a database condition and as a check of one
    row, so each hit can say what it matched."""

    label: str
    condition: Q
    check: object  # callable(PersonMention) -> bool, or None: see person_search


def _text_parts(words: list[str]) -> tuple[Q, list]:
    """Free text naming the person: the name as typed, forename and surname
    either way round, or initial and surname. A query that gives an initial
    ("J Smith") also finds any forename starting with it."""
    first, surname = words[0], words[-1]
    phrases = {" ".join(words)}
    if len(words) > 1:
        phrases |= {f"{first} {surname}", f"{surname} {first}"}
        # Free text often gives only the initial: "J Smith" may be John Smith.
        phrases.add(f"{first[0]} {surname}")
    patterns = [re.escape(f" {phrase} ") for phrase in phrases]
    ts_queries = [" <-> ".join(phrase.split()) for phrase in phrases]
    if len(words) > 1 and len(first) == 1:
        patterns.append(f" {first}[^ ]* {re.escape(surname)} ")
        ts_queries.append(f"{first}:* <-> {surname}")
    if connection.vendor == "postgresql":
        condition = reduce(
            or_, [Q(_TextMatches(F("text"), Value(q))) for q in ts_queries]
        )
    elif len(patterns) == len(phrases):
        condition = reduce(or_, [Q(text__contains=f" {p} ") for p in phrases])
    else:
        condition = Q(text__regex="|".join(patterns))
    compiled = re.compile("|".join(patterns))
    return condition, [lambda row: bool(row.text) and bool(compiled.search(row.text))]


def query_parts(query: PersonQuery) -> list[Part]:
    parts = []
    if query.words:
        variants = query_variants(query.words)
        parts.append(
            Part(
                "Name",
                reduce(or_, [Q(name_variants__contains=f"|{v}|") for v in variants]),
                lambda row: any(f"|{v}|" in row.name_variants for v in variants),
            )
        )
        condition, checks = _text_parts(query.words)
        parts.append(Part("Name in free text", condition, checks[0]))
        if trigram_available() and len(query.words) > 1:
            typed = " ".join(query.words)
            parts.append(
                Part(
                    "Similar name: check it is the same person",
                    Q(_NameSimilar(F("name"), Value(typed))),
                    None,  # said only of a row no exact part matched
                )
            )
    if query.phrase:
        phrase = query.phrase
        if connection.vendor == "postgresql":
            words = " <-> ".join(phrase.split())
            condition = Q(_TextMatches(F("text"), Value(words)))
        else:
            condition = Q(text__contains=phrase)
        parts.append(
            Part("Address or words in free text", condition,
                 lambda row: phrase in row.text)
        )  # fmt: skip
    if query.date_of_birth:
        dob = query.date_of_birth
        parts.append(
            Part("Date of birth", Q(date_of_birth=dob),
                 lambda row: row.date_of_birth == dob)
        )  # fmt: skip
    if query.postcode:
        code = query.postcode
        parts.append(
            Part("Postcode", Q(postcode=code), lambda row: row.postcode == code)
        )
    if query.phone:
        number = query.phone
        parts.append(
            Part("Phone number", Q(phone=number), lambda row: row.phone == number)
        )
    return parts


@dataclass
class Hit:
    mention: PersonMention
    source: Source
    matched: list[str]

    @property
    def record_key(self) -> tuple[str, int]:
        return (self.source.key, self.mention.source_id)


@dataclass
class HitGroup:
    """The hits in one case, meeting or share."""

    kind: str  # "Case", "Meeting", "File share"
    title: str
    owner_key: tuple[str, int]  # the record view of the case, meeting or share
    hits: list[Hit] = field(default_factory=list)
    audit_events: int = 0
    first_recorded: object = None
    last_recorded: object = None

    @property
    def records(self) -> int:
        return len({hit.record_key for hit in self.hits})


@dataclass
class PersonSearch:
    groups: list[HitGroup]
    hits: int
    cut_short: bool

    @property
    def record_ids(self) -> list[str]:
        """ "referrals.referral:12" for each record found: what the audit
        event keeps, in place of the words searched for."""
        found = {
            f"{hit.source.label}:{hit.mention.source_id}"
            for group in self.groups
            for hit in group.hits
        }
        return sorted(found)


def person_search(user: User, query: PersonQuery) -> PersonSearch:
    """The index rows matching ``query``, grouped by case, meeting or share,
    most recent first. Only for the data protection officer."""
    if not may_handle_data_rights(user) or query.is_empty:
        return PersonSearch(groups=[], hits=0, cut_short=False)
    parts = query_parts(query)
    rows = list(
        PersonMention.objects.filter(reduce(or_, [p.condition for p in parts]))
        .select_related("source_type", "referral", "meeting", "share")
        .order_by(F("recorded_at").desc(nulls_last=True), "pk")[: HITS_SHOWN + 1]
    )
    cut_short = len(rows) > HITS_SHOWN
    hits = []
    for row in rows[:HITS_SHOWN]:
        source = SOURCES_BY_LABEL.get(
            f"{row.source_type.app_label}.{row.source_type.model}"
        )
        if source is None:
            continue
        matched = [p.label for p in parts if p.check and p.check(row)]
        if not matched:  # found only by the trigram index
            matched = [p.label for p in parts if p.check is None] or [parts[0].label]
        hits.append(Hit(row, source, matched))
    groups = _grouped(hits)
    _count_audit_events(groups)
    return PersonSearch(groups=groups, hits=len(hits), cut_short=cut_short)


def _group_of(hit: Hit) -> tuple[tuple[str, int], str, str]:
    """The case, meeting or share a hit belongs to: key, kind and title."""
    row = hit.mention
    if row.referral_id:
        return ("referral", row.referral_id), "Case", f"Case {row.referral.reference}"
    if row.meeting_id:
        return ("meeting", row.meeting_id), "Meeting", str(row.meeting)
    if row.share_id:
        return ("share", row.share_id), "File share", str(row.share)
    return hit.record_key, hit.source.noun, hit.source.noun


def _grouped(hits: list[Hit]) -> list[HitGroup]:
    groups: dict[tuple[str, int], HitGroup] = {}
    for hit in hits:
        key, kind, title = _group_of(hit)
        group = groups.get(key)
        if group is None:
            group = groups[key] = HitGroup(kind, title, key)
        group.hits.append(hit)
        at = hit.mention.recorded_at
        if at is not None:
            group.first_recorded = min(group.first_recorded or at, at)
            group.last_recorded = max(group.last_recorded or at, at)
    return list(groups.values())


def _count_audit_events(groups: list[HitGroup]) -> None:
    """How many audit events name each group's records (the case, meeting or
    share, and each record a hit came from): the log refers to people only
    through the records that hold them."""
    wanted: dict[tuple[str, str], list[HitGroup]] = {}
    for group in groups:
        keys = {group.owner_key} | {hit.record_key for hit in group.hits}
        for key, pk in keys:
            label = SOURCES_BY_KEY[key].label
            wanted.setdefault((label, str(pk)), []).append(group)
    if not wanted:
        return
    condition = Q()
    by_type: dict[str, list[str]] = {}
    for label, pk in wanted:
        by_type.setdefault(label, []).append(pk)
    for label, ids in by_type.items():
        condition |= Q(object_type=label, object_id__in=ids)
    counts = (
        audit_events()
        .filter(condition)
        .values("object_type", "object_id")
        .annotate(events=Count("pk"))
    )
    for count in counts:
        for group in wanted.get((count["object_type"], count["object_id"]), []):
            group.audit_events += count["events"]


# One record -----------------------------------------------------------------------


@dataclass
class RecordView:
    source: Source
    record: object
    mentions: list[PersonMention]
    audit_events: list[AuditEvent]


def record_for(user: User, key: str, record_id: int) -> RecordView:
    """A record the index reads, with its index rows and the audit events
    about it, for the data protection officer; 404 for anything else."""
    if not may_handle_data_rights(user):
        raise Http404("Only the data protection officer reads records here")
    source = SOURCES_BY_KEY.get(key)
    if source is None:
        raise Http404("No such kind of record")
    record = source.records().filter(pk=record_id).first()
    if record is None:
        raise Http404("No such record")
    mentions = list(
        PersonMention.objects.filter(
            source_type__app_label=source.label.split(".")[0],
            source_type__model=source.label.split(".")[1],
            source_id=record.pk,
        ).order_by("pk")
    )
    events = list(
        audit_events()
        .filter(object_type=source.label, object_id=str(record.pk))
        .only("at", "action", "actor_label", "organisation_label", "outcome")
        .order_by("-id")[:AUDIT_EVENTS_SHOWN]
    )
    return RecordView(source, record, mentions, events)


def index_summary() -> dict:
    """How many rows of each kind the index holds, for the officer's home page."""
    counts = dict(
        PersonMention.objects.values_list("kind").annotate(n=Count("pk")).order_by()
    )
    return {
        "people": counts.get(MentionKind.PERSON, 0),
        "texts": counts.get(MentionKind.TEXT, 0),
        "last_indexed": PersonMention.objects.order_by("-indexed_at")
        .values_list("indexed_at", flat=True)
        .first(),
    }

"""Answers of a submitted referral by name, for corrections (UK GDPR Article
16): which answers there are, what each holds now, how a value reads, and
what of a correction's history each audience may see.

An answer is named ``section.field`` (a section's own question) or
``section.list.position.field`` (a question of one item in a list, position
from 0): ``people.people.1.phone`` is the second person's safe contact
number. The questions, labels and choices are the form's (``referrals.forms``),
so a correction is checked and shown exactly as the answer was.
"""

from dataclasses import dataclass

from django import forms

from .answers import _display, raw_from_cleaned
from .forms import SECTIONS, SECTIONS_BY_SLUG, Repeat, Section
from .models import Referral, ReferralAmendment
from .redaction import (
    SUMMARISED,
    Audience,
    partner_summary,
    redaction_flags,
    sees_everything,
    withheld,
)


@dataclass(frozen=True)
class AnswerRef:
    """Where one answer lives in ``Referral.answers``."""

    section: Section
    name: str
    repeat: Repeat | None = None
    index: int | None = None

    @property
    def key(self) -> str:
        if self.repeat is None:
            return f"{self.section.slug}.{self.name}"
        return f"{self.section.slug}.{self.repeat.prefix}.{self.index}.{self.name}"

    @property
    def prefix(self) -> str:
        return self.repeat.prefix if self.repeat else ""

    @property
    def form_field(self) -> forms.Field:
        form_class = self.repeat.form_class if self.repeat else self.section.form_class
        return form_class.base_fields[self.name]

    def question(self) -> forms.Field:
        """The question's field as its page shows it: with the section
        form's own GOV.UK messages, for the correction form."""
        form_class = self.repeat.form_class if self.repeat else self.section.form_class
        return form_class().fields[self.name]

    @property
    def label(self) -> str:
        """ "People: Person 2: Full name"; "Eligibility: Who ... vulnerable?"."""
        parts = [self.section.title]
        if self.repeat is not None:
            noun = self.repeat.noun
            parts.append(f"{noun[0].upper()}{noun[1:]} {self.index + 1}")
        parts.append(str(self.form_field.label))
        return ": ".join(parts)

    def item(self, answers: dict) -> dict:
        """The answers the question sits among (the section's own, or the
        list item's)."""
        section = answers.get(self.section.slug, {})
        if self.repeat is None:
            return section.get("fields", {})
        items = section.get(self.repeat.prefix, [])
        return items[self.index] if self.index < len(items) else {}

    def value(self, answers: dict):
        return self.item(answers).get(self.name)

    def display(self, value) -> str:
        return _display(self.form_field, value)


def answer_ref(referral: Referral, key: str) -> AnswerRef | None:
    """The answer ``key`` names on ``referral``, or None if there is none."""
    parts = key.split(".")
    section = SECTIONS_BY_SLUG.get(parts[0])
    if section is None:
        return None
    if len(parts) == 2:
        if parts[1] not in section.form_class.base_fields:
            return None
        return AnswerRef(section, parts[1])
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    repeat = next((r for r in section.repeats if r.prefix == parts[1]), None)
    if repeat is None or parts[3] not in repeat.form_class.base_fields:
        return None
    ref = AnswerRef(section, parts[3], repeat, int(parts[2]))
    items = referral.answers.get(section.slug, {}).get(repeat.prefix, [])
    return ref if ref.index < len(items) else None


def answer_refs(referral: Referral) -> list[AnswerRef]:
    """Every answer of the referral that a correction may change, in form
    order: each section's questions, then each item of its lists."""
    refs = []
    for section in SECTIONS:
        refs += [AnswerRef(section, name) for name in section.form_class.base_fields]
        stored = referral.answers.get(section.slug, {})
        for repeat in section.repeats:
            for index, _item in enumerate(stored.get(repeat.prefix, [])):
                refs += [
                    AnswerRef(section, name, repeat, index)
                    for name in repeat.form_class.base_fields
                ]
    return refs


def section_with(answers: dict, ref: AnswerRef, value) -> dict:
    """Raw form data for the answer's section, as stored but with ``value``
    in place of the answer: binding it checks the section as a whole."""
    stored = answers.get(ref.section.slug, {})
    changed = {
        "fields": dict(stored.get("fields", {})),
        **{r.prefix: [dict(item) for item in stored.get(r.prefix, [])]
           for r in ref.section.repeats},
    }  # fmt: skip
    changed_item = (
        changed["fields"] if ref.repeat is None else changed[ref.prefix][ref.index]
    )
    changed_item[ref.name] = value
    return raw_from_cleaned(ref.section, changed)


@dataclass(frozen=True)
class AmendmentLine:
    """One correction as an audience may see it."""

    amendment: ReferralAmendment
    label: str
    before: str
    after: str
    withheld: str  # the reason the values are not shown, or ""
    reason: str  # why it was corrected: only for those who see everything


def amendment_history(audience: Audience, referral: Referral) -> list[AmendmentLine]:
    """The referral's corrections, oldest first, each with its old and new
    value unless the redaction policy (``referrals.redaction``) withholds that
    answer from ``audience``: then the line says so instead."""
    flags = redaction_flags(audience, referral)
    sees_all = sees_everything(audience, referral)
    if flags is not None and partner_summary(audience, referral):
        flags = {**flags, SUMMARISED: True}
    lines = []
    for amendment in referral.amendments.all():
        ref = answer_ref(referral, amendment.answer_key)
        if ref is None:
            continue
        instead = None
        if flags is not None:
            item = ref.item(referral.answers)
            # Judged on the item as it is and as it was: correcting a
            # witness's role must not show what "witness" hid before.
            for values in (item, {**item, ref.name: amendment.before}):
                instead = instead or withheld(
                    ref.prefix, values, ref.name, ref.form_field, flags
                )
        lines.append(
            AmendmentLine(
                amendment=amendment,
                label=ref.label,
                before="" if instead else ref.display(amendment.before),
                after="" if instead else ref.display(amendment.after),
                withheld=instead or "",
                reason=amendment.reason if sees_all else "",
            )
        )
    return lines

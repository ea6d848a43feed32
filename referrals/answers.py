"""Binding section forms to a draft's raw data, and showing answers back.

Raw data is what the browser sent, as ``{name: [values]}``: binding a form to
it again shows the page exactly as it was left, mistakes included. Cleaned
answers are JSON-safe (dates as ISO strings) and are what a referral keeps.
"""

import re
from dataclasses import dataclass
from datetime import date

from django import forms
from django.forms.utils import ErrorDict
from django.http import QueryDict

from portal.dates import long_date
from portal.forms import error_anchor, error_list

from .forms import SECTIONS, Repeat, Section

# The redaction rules live in one place; the names stay importable from here.
from .redaction import WITHHELD_ANONYMOUS as WITHHELD_ANONYMOUS
from .redaction import WITHHELD_NOT_DISCLOSED as WITHHELD_NOT_DISCLOSED
from .redaction import withheld

# Form data that is about the page, not an answer.
_NOT_ANSWERS = {"csrfmiddlewaretoken", "action", "remove", "return_to", "revision"}


def raw_from_post(post: QueryDict) -> dict[str, list[str]]:
    return {
        name: [value.strip() if name.endswith("TOTAL_FORMS") else value
               for value in values]
        for name, values in post.lists()
        if name not in _NOT_ANSWERS and not name.startswith("risk_assessment")
    }  # fmt: skip


def _querydict(raw: dict[str, list[str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, values in raw.items():
        data.setlist(name, list(values))
    return data


def _management_defaults(repeat: Repeat, raw: dict) -> None:
    """Fill in a formset's management form if the page never sent one."""
    total = f"{repeat.prefix}-TOTAL_FORMS"
    if not raw.get(total) or not raw[total][0].isdigit():
        indexes = {
            int(match.group(1))
            for name in raw
            if (match := re.match(rf"^{repeat.prefix}-(\d+)-", name))
        }
        raw[total] = [str(max(len(indexes), repeat.min_num))]
    raw.setdefault(f"{repeat.prefix}-INITIAL_FORMS", ["0"])


def repeat_add(raw: dict, repeat: Repeat) -> dict:
    """The raw data with one more, empty, item in the list."""
    raw = dict(raw)
    _management_defaults(repeat, raw)
    count = int(raw[f"{repeat.prefix}-TOTAL_FORMS"][0])
    raw[f"{repeat.prefix}-TOTAL_FORMS"] = [str(min(count + 1, repeat.max_num))]
    return raw


def repeat_remove(raw: dict, repeat: Repeat, index: int) -> dict:
    """The raw data without item ``index``; later items move up one place."""
    raw = dict(raw)
    _management_defaults(repeat, raw)
    count = int(raw[f"{repeat.prefix}-TOTAL_FORMS"][0])
    if not 0 <= index < count:
        return raw
    pattern = re.compile(rf"^{repeat.prefix}-(\d+)-(.+)$")
    kept = {}
    for name, values in raw.items():
        match = pattern.match(name)
        if not match:
            kept[name] = values
            continue
        position, rest = int(match.group(1)), match.group(2)
        if position == index:
            continue
        if position > index:
            position -= 1
        kept[f"{repeat.prefix}-{position}-{rest}"] = values
    kept[f"{repeat.prefix}-TOTAL_FORMS"] = [str(count - 1)]
    return kept


class _CheckedFormSet(forms.BaseFormSet):
    """A formset that also checks its items as a whole (``Repeat.check``).

    ``show_errors`` False shows the items as typed without error messages
    (``BoundSection.quiet``), like ``SectionForm.show_errors``.
    """

    repeat: Repeat
    show_errors = True

    @property
    def errors(self):
        if not self.show_errors:
            return [ErrorDict(renderer=self.renderer) for _form in self.forms]
        return super().errors

    def non_form_errors(self):
        if not self.show_errors:
            return self.error_class(renderer=self.renderer)
        return super().non_form_errors()

    def clean(self):
        if any(self.errors) or not self.repeat.check:
            return
        items = [form.cleaned_data for form in self.forms if form.cleaned_data]
        problems = self.repeat.check(items)
        if problems:
            raise forms.ValidationError(problems)


def _formset_class(repeat: Repeat):
    # Django's own "Please submit at least 1 form." means nothing to a referrer.
    messages = {
        "too_few_forms": f"Add at least {repeat.min_num} {repeat.noun}",
        "too_many_forms": f"You can add up to {repeat.max_num} in this list",
    }
    return forms.formset_factory(
        repeat.form_class,
        formset=type(
            "FormSet",
            (_CheckedFormSet,),
            {"repeat": repeat, "default_error_messages": messages},
        ),
        extra=0,
        min_num=repeat.min_num,
        validate_min=True,
        max_num=repeat.max_num,
        validate_max=True,
        absolute_max=repeat.max_num,
    )


@dataclass
class BoundRepeat:
    repeat: Repeat
    formset: forms.BaseFormSet

    @property
    def items(self):
        """(index, form, heading) for each item on the page."""
        noun = self.repeat.noun
        return [
            (index, form, f"{noun[0].upper()}{noun[1:]} {index + 1}")
            for index, form in enumerate(self.formset.forms)
        ]

    @property
    def can_add(self) -> bool:
        return self.formset.total_form_count() < self.repeat.max_num

    def list_anchor(self) -> str:
        """Where a problem with the whole list takes focus: the "Add" button,
        or the first item's first question once the list is full."""
        if self.can_add or not self.formset.forms:
            return f"add-{self.repeat.prefix}"
        return error_anchor(next(iter(self.formset.forms[0])))


class BoundSection:
    """A section's form and lists, bound to raw data or showing initial values."""

    def __init__(self, section: Section, raw: dict | None, initial: dict | None = None):
        self.section = section
        data = None
        if raw is not None:
            raw = dict(raw)
            for repeat in section.repeats:
                _management_defaults(repeat, raw)
            data = _querydict(raw)
        self.form = section.form_class(data, initial=initial)
        self.repeats = [
            BoundRepeat(repeat, _formset_class(repeat)(data, prefix=repeat.prefix))
            for repeat in section.repeats
        ]

    @property
    def is_bound(self) -> bool:
        return self.form.is_bound

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        for bound in self.repeats:
            valid = bound.formset.is_valid() and valid
        return valid

    def quiet(self) -> None:
        """Show the bound data without error messages (and without validating):
        how a page someone comes back to shows what they typed, calmly. The
        forms' own ``show_errors`` switch, not Django's private error cache."""
        self.form.show_errors = False
        for bound in self.repeats:
            bound.formset.show_errors = False
            for form in bound.formset.forms:
                form.show_errors = False

    def errors(self) -> list[tuple[str, str]]:
        """Every problem on the page as (anchor id, message), in page order."""
        problems = error_list(self.form)
        for bound in self.repeats:
            for _index, form, heading in bound.items:
                problems += [
                    (anchor, f"{heading}: {message}")
                    for anchor, message in error_list(form)
                ]
            for message in bound.formset.non_form_errors():
                problems.append((bound.list_anchor(), message))
        return problems

    def cleaned(self) -> dict:
        """The valid answers, JSON-safe."""
        if not self.is_valid():
            raise ValueError("Only valid answers can be cleaned")
        answers = {"fields": _json_safe(self.form.cleaned_data)}
        for bound in self.repeats:
            answers[bound.repeat.prefix] = [
                _json_safe(form.cleaned_data)
                for form in bound.formset.forms
                if form.cleaned_data
            ]
        return answers


def raw_from_cleaned(section: Section, cleaned: dict) -> dict[str, list[str]]:
    """Raw form data that shows ``cleaned`` answers again (to pre-fill a draft)."""
    raw: dict[str, list[str]] = {}

    def put(form_class, values: dict, prefix: str) -> None:
        for name, form_field in form_class.base_fields.items():
            value = values.get(name)
            if _blank(value) or value is False:
                continue
            key = f"{prefix}{name}"
            if isinstance(form_field.widget, forms.MultiWidget):
                parts = form_field.widget.decompress(value)
                for position, part in enumerate(parts):
                    raw[f"{key}_{position}"] = [part or ""]
            elif isinstance(value, list):
                raw[key] = [str(item) for item in value]
            elif value is True:
                raw[key] = ["on"]
            else:
                raw[key] = [str(value)]

    put(section.form_class, cleaned.get("fields", {}), "")
    for repeat in section.repeats:
        items = cleaned.get(repeat.prefix, [])
        raw[f"{repeat.prefix}-TOTAL_FORMS"] = [str(max(len(items), repeat.min_num))]
        raw[f"{repeat.prefix}-INITIAL_FORMS"] = ["0"]
        for index, item in enumerate(items):
            put(repeat.form_class, item, f"{repeat.prefix}-{index}-")
    return raw


def _blank(value) -> bool:
    # Not ``value in (None, "", [])`` with False: 0 == False, and an age of 0
    # is an answer.
    return value is None or (isinstance(value, str | list) and not value)


def _json_safe(data: dict) -> dict:
    return {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in data.items()
    }


def bind(section: Section, raw: dict | None, initial: dict | None = None):
    return BoundSection(section, raw, initial)


# Showing answers ---------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    anchor: str = ""
    withheld: bool = False


@dataclass
class Group:
    """Answers under one heading: a section's own questions, or one item."""

    heading: str
    rows: list[Row]


@dataclass
class SectionAnswers:
    section: Section
    groups: list[Group]


def _display(form_field: forms.Field, value) -> str:
    if _blank(value) and not isinstance(form_field, forms.BooleanField):
        return "Not given"
    if isinstance(form_field, forms.BooleanField):
        return "Yes" if value else "No"
    if isinstance(value, str) and hasattr(form_field, "noun"):
        return long_date(value)
    choices = dict(getattr(form_field, "choices", []) or [])
    if isinstance(value, list):
        return "; ".join(str(choices.get(item, item)) for item in value)
    if choices:
        return str(choices.get(value, value))
    return str(value)


def _anchor(form_field: forms.Field, html_name: str) -> str:
    """The id of the field's first input, for "Change" links."""
    multiple = (forms.RadioSelect, forms.CheckboxSelectMultiple, forms.MultiWidget)
    suffix = "_0" if isinstance(form_field.widget, multiple) else ""
    return f"id_{html_name}{suffix}"


def _rows(
    form_class, values: dict, prefix="", index=None, flags=None, brief=False
) -> list[Row]:
    rows = []
    for name, form_field in form_class.base_fields.items():
        anchor = _anchor(form_field, f"{prefix}-{index}-{name}" if prefix else name)
        instead = withheld(prefix, values, name, form_field, flags) if flags else None
        if instead:
            rows.append(Row(str(form_field.label), instead, anchor, withheld=True))
            continue
        if brief and values.get(name) in (None, "", []):
            continue
        rows.append(
            Row(str(form_field.label), _display(form_field, values.get(name)), anchor)
        )
    return rows


def section_answers(
    section: Section, answers: dict, *, redact: dict | None = None, brief=False
) -> SectionAnswers:
    """A section's answers as rows to show, with details withheld if ``redact``.

    ``redact`` holds the referral's flags (``do_not_disclose``,
    ``anonymous_source``) and whether a partner summary replaces the free text;
    pass it only for viewers it hides things from (``referrals.redaction``).
    ``brief`` leaves out optional questions nobody answered (case pages and
    PDFs); check-your-answers shows them all, so gaps can be filled.
    """
    groups = []
    own = _rows(
        section.form_class, answers.get("fields", {}), flags=redact, brief=brief
    )
    if own:
        groups.append(Group(section.title, own))
    for repeat in section.repeats:
        items = answers.get(repeat.prefix, [])
        if not items:
            groups.append(Group(repeat.heading, [Row(repeat.heading, "None given")]))
        noun = repeat.noun[0].upper() + repeat.noun[1:]
        for index, item in enumerate(items):
            groups.append(
                Group(
                    f"{noun} {index + 1}",
                    _rows(repeat.form_class, item, repeat.prefix, index, redact, brief),
                )
            )
    return SectionAnswers(section, groups)


def all_answers(
    answers: dict, *, redact: dict | None = None, brief=False
) -> list[SectionAnswers]:
    return [
        section_answers(
            section, answers.get(section.slug, {}), redact=redact, brief=brief
        )
        for section in SECTIONS
    ]

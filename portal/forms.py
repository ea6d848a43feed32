"""Form fields that follow the GOV.UK Design System's patterns and messages.

Dates are three boxes (day, month, year) with the error messages the Design
System recommends: https://design-system.service.gov.uk/components/date-input/
UK phone numbers and postcodes are checked with messages that say what to fix.
Every form in the project refuses NUL characters (``RefusesNullCharacters``).
"""

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

_PARTS = ("day", "month", "year")

NULL_CHARACTER_MESSAGE = (
    "Remove the null character from your answer: it cannot be saved"
)


def contains_null_character(value) -> bool:
    """Whether text, or any text in a list or dict of it, holds a NUL (``\\x00``).

    PostgreSQL refuses NUL in text and JSON columns, so such a value would fail
    with a 500 when saved or looked up; no keyboard types one.
    """
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, MultiValueDict):  # request.POST: every value, not the last
        return contains_null_character(dict(value.lists()))
    if isinstance(value, dict):
        return any(
            contains_null_character(key) or contains_null_character(item)
            for key, item in value.items()
        )
    if isinstance(value, list | tuple):
        return any(contains_null_character(item) for item in value)
    return False


def _refuse_null_character(*_value):
    raise ValidationError(NULL_CHARACTER_MESSAGE, code="null_character")


class RefusesNullCharacters:
    """A form mixin: a field whose submitted value holds a NUL character gets
    one plain error, whatever kind of field it is, and is not cleaned further.

    Django's text fields already refuse NUL, but choices, dates, check boxes
    and model choices (which look the value up) do not, and data kept as
    typed (referral drafts) must not hold one. Every form class in the project
    uses this (tests/portal/test_null_characters.py checks).
    """

    def full_clean(self):
        if self.is_bound:
            for name, field in self.fields.items():
                if not field.disabled and contains_null_character(self._sent(name)):
                    # This form's own copy of the field: other forms are untouched.
                    field.clean = _refuse_null_character
        super().full_clean()

    def _sent(self, name) -> list:
        """What was sent for a field, as sent: a check box's widget reads any
        text as True, so the raw values are looked at as well."""
        bound = self[name]
        suffixes = getattr(bound.field.widget, "widgets_names", ())
        keys = [bound.html_name, *(bound.html_name + suffix for suffix in suffixes)]
        getlist = getattr(self.data, "getlist", None)
        raw = [getlist(key) if getlist else self.data.get(key) for key in keys]
        return [*raw, bound.data]


class DateWidget(forms.MultiWidget):
    """Day, month and year boxes, named ``<name>_0``, ``_1`` and ``_2``."""

    template_name = "includes/govuk/date_widget.html"

    def __init__(self, attrs=None):
        box = {"inputmode": "numeric", "class": "govuk-input govuk-date-input__input"}
        super().__init__(
            [
                forms.TextInput(
                    {**box, "class": box["class"] + " govuk-input--width-2"}
                ),
                forms.TextInput(
                    {**box, "class": box["class"] + " govuk-input--width-2"}
                ),
                forms.TextInput(
                    {**box, "class": box["class"] + " govuk-input--width-4"}
                ),
            ],
            attrs,
        )

    def decompress(self, value):
        if isinstance(value, date):
            return [str(value.day), str(value.month), str(value.year)]
        if isinstance(value, str) and value:
            try:
                parsed = date.fromisoformat(value)
            except ValueError:
                return [None, None, None]
            return [str(parsed.day), str(parsed.month), str(parsed.year)]
        return [None, None, None]

    def id_for_label(self, id_):
        return f"{id_}_0" if id_ else id_


class DateField(forms.Field):
    """A date typed into three boxes, checked the GOV.UK way.

    ``noun`` is how messages name the date ("Date of birth"); ``past`` and
    ``future`` limit it to today or earlier, or today or later.
    """

    widget = DateWidget

    def __init__(self, *, noun: str, past=False, future=False, **kwargs):
        self.noun, self.past, self.future = noun, past, future
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, date):
            return value
        parts = [(part or "").strip() for part in (value or [None, None, None])]
        if not any(parts):
            return None
        missing = [name for name, part in zip(_PARTS, parts, strict=True) if not part]
        if missing:
            raise ValidationError(
                f"{self.noun} must include a {' and '.join(missing)}", code="incomplete"
            )
        if not all(part.isdigit() for part in parts):
            raise ValidationError(
                f"{self.noun} must be a real date, in numbers", code="invalid"
            )
        day, month, year = (int(part) for part in parts)
        if len(parts[2]) != 4:
            raise ValidationError(
                f"Year must include 4 numbers, for example {timezone.localdate().year}",
                code="year",
            )
        try:
            return date(year, month, day)
        except ValueError:
            raise ValidationError(
                f"{self.noun} must be a real date", code="invalid"
            ) from None

    def validate(self, value):
        if value is None and self.required:
            # "Enter the date of the last CMARAC": lower the first letter only.
            raise ValidationError(
                f"Enter the {self.noun[0].lower()}{self.noun[1:]}", code="required"
            )
        if value is None:
            return
        today = timezone.localdate()
        if self.past and value > today:
            raise ValidationError(
                f"{self.noun} must be today or in the past", code="future"
            )
        if self.future and value < today:
            raise ValidationError(
                f"{self.noun} must be today or in the future", code="past"
            )
        if value.year < 1900:
            raise ValidationError(f"{self.noun} must be after 1900", code="old")


class MonthWidget(forms.MultiWidget):
    """Month and year boxes, named ``<name>_0`` and ``_1`` (the GOV.UK date
    input without the day)."""

    def __init__(self, attrs=None):
        box = {"inputmode": "numeric", "class": "govuk-input govuk-date-input__input"}
        super().__init__(
            [
                forms.TextInput(
                    {**box, "class": box["class"] + " govuk-input--width-2"}
                ),
                forms.TextInput(
                    {**box, "class": box["class"] + " govuk-input--width-4"}
                ),
            ],
            attrs,
        )

    def decompress(self, value):
        if isinstance(value, date):
            return [str(value.month), str(value.year)]
        return [None, None]

    def id_for_label(self, id_):
        return f"{id_}_0" if id_ else id_


class MonthField(forms.Field):
    """A month typed as month and year numbers; the first day of that month.

    Messages follow the GOV.UK date input's ("Start month must include a
    year"): https://design-system.service.gov.uk/components/date-input/
    """

    widget = MonthWidget

    def __init__(self, *, noun: str, **kwargs):
        self.noun = noun
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, date):
            return value.replace(day=1)
        parts = [(part or "").strip() for part in (value or [None, None])]
        if not any(parts):
            return None
        missing = [
            name for name, part in zip(("month", "year"), parts, strict=True)
            if not part
        ]  # fmt: skip
        if missing:
            raise ValidationError(
                f"{self.noun} must include a {missing[0]}", code="incomplete"
            )
        if not all(part.isdigit() for part in parts):
            raise ValidationError(
                f"{self.noun} must be a real month, in numbers", code="invalid"
            )
        month, year = (int(part) for part in parts)
        if len(parts[1]) != 4:
            raise ValidationError(
                f"Year must include 4 numbers, for example {timezone.localdate().year}",
                code="year",
            )
        if not 1 <= month <= 12:
            raise ValidationError(
                f"{self.noun} must be a real month, from 1 to 12", code="invalid"
            )
        if year < 1900:
            raise ValidationError(f"{self.noun} must be after 1900", code="old")
        return date(year, month, 1)

    def validate(self, value):
        if value is None and self.required:
            raise ValidationError(
                f"Enter the {self.noun[0].lower()}{self.noun[1:]}", code="required"
            )


# "+44 (0)20 7946 0001" is a common way to write a UK number: allow that 0.
_PHONE = re.compile(r"^(?:(?:\+44|0044)0?|0)\d{9,10}$")


def uk_phone(value: str) -> str:
    """A UK phone number, with spaces, brackets and dashes allowed."""
    digits = re.sub(r"[\s()\-.]", "", value)
    if not _PHONE.match(digits):
        raise ValidationError(
            "Enter a UK phone number, like 01632 960 001, 07700 900 982 or "
            "+44 808 157 0192",
            code="phone",
        )
    return value.strip()


_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")


def uk_postcode(value: str) -> str:
    """A full UK postcode, returned in capitals with one space: ``N1 1XA``."""
    match = _POSTCODE.match(value.strip().upper())
    if not match:
        raise ValidationError("Enter a full UK postcode, like AA3 1AB", code="postcode")
    return f"{match.group(1)} {match.group(2)}"


class PhoneField(forms.CharField):
    def __init__(self, *, autocomplete="off", **kwargs):
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                {"class": "govuk-input govuk-input--width-20", "type": "tel",
                 "autocomplete": autocomplete}
            ),
        )  # fmt: skip
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return uk_phone(value) if value else value


class PostcodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                {"class": "govuk-input govuk-input--width-10", "autocomplete": "off"}
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return uk_postcode(value) if value else value


class TextAreaField(forms.CharField):
    """Several lines of text, stored with plain newlines.

    Browsers send a textarea's line breaks as CRLF
    (https://html.spec.whatwg.org/multipage/form-elements.html#the-textarea-element),
    so without this, text saved by code and then saved unchanged from a page
    would differ from what is stored.
    """

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


def error_anchor(bound_field) -> str:
    """The id of the input an error summary link should move focus to."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return f"{bound_field.auto_id}_0"
    return bound_field.id_for_label


def error_list(*forms_) -> list[tuple[str, str]]:
    """Every error on the page as (anchor id, message), in page order."""
    problems = []
    for form in forms_:
        if form is None:
            continue
        for error in form.non_field_errors():
            first = next(iter(form.visible_fields()), None)
            problems.append((error_anchor(first) if first else "", error))
        for bound in form:
            for error in bound.errors:
                problems.append((error_anchor(bound), error))
    return problems


def refusal_status(*forms_, errors=()) -> int:
    """The status of a page that may be showing a refusal: 400 Bad Request
    when a bound form on it has errors or ``errors`` (page-level messages)
    lists any, else 200. The one way a refused post is answered: the page
    again, with what was typed and the message by its field."""
    refused = bool(errors) or any(
        form is not None and form.is_bound and form.errors for form in forms_
    )
    return 400 if refused else 200


class RefusedWithBadRequest:
    """For class-based form views (Django's ``FormMixin``, and the Wagtail
    admin's create and edit screens): a refused form is the page again with
    status 400, as ``refusal_status`` gives the function views. Django's own
    ``form_invalid`` answers 200, which tells assistive technology, browser
    tests and monitoring that the post worked.

    The view's own ``form_invalid`` still builds the page, so what it adds
    (Wagtail's "could not be saved" banner) stays; only a 200 becomes 400. A
    redirect, or Wagtail's JSON answer to its autosave (already 400), is left
    as it is."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if response.status_code == 200:
            response.status_code = 400
        return response

"""The data protection officer's person search (GOV.UK error messages)."""

from django import forms

from portal.forms import DateField, RefusesNullCharacters, TextAreaField

from .matching import PersonQuery, query_read
from .models import (
    Exemption,
    IdentityMethod,
    ItemDecision,
    RequestDecision,
    RequestKind,
    SarStatus,
)
from .sar import STATUSES_SET_BY_HAND

ASK = "Enter a name, date of birth, postcode or phone number"


class PersonSearchForm(RefusesNullCharacters, forms.Form):
    q = forms.CharField(
        label="Name, date of birth, postcode or phone number",
        help_text="For example, Jo Bloggs, J Bloggs, 2 2 1990, N1 1XA or "
        "07700 900 982. You can give several, like Jo Bloggs 2 2 1990.",
        max_length=200,
        error_messages={
            "required": ASK,
            "max_length": "Enter 200 characters or fewer",
        },
        widget=forms.TextInput(
            {"class": "govuk-input", "type": "search", "autocomplete": "off",
             "spellcheck": "false"}
        ),
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_q(self) -> PersonQuery:
        query = query_read(self.cleaned_data["q"])
        if query.is_empty:
            raise forms.ValidationError(ASK, code="empty")
        if (
            query.words
            and not (query.date_of_birth or query.postcode or query.phone)
            and sum(len(word) for word in query.words) < 2
        ):
            raise forms.ValidationError(
                "Enter at least 2 letters of a name", code="short"
            )
        return query


# Requests from data subjects ---------------------------------------------------


def _text_area(rows=4):
    return forms.Textarea({"class": "govuk-textarea", "rows": rows})


def _text_input(width=""):
    css = f"govuk-input govuk-input--width-{width}" if width else "govuk-input"
    return forms.TextInput({"class": css, "autocomplete": "off",
                            "spellcheck": "false"})  # fmt: skip


class _Form(RefusesNullCharacters, forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def refusal_show(self, refused) -> None:
        """Put a service's refusal by its field (or above the form)."""
        for field, message in refused.errors:
            self.add_error(field if field in self.fields else None, message)


class SarOpenForm(_Form):
    requester_name = forms.CharField(
        label="Requester's full name", max_length=200,
        error_messages={"required": "Enter the requester's name"},
        widget=_text_input(),
    )  # fmt: skip
    requester_date_of_birth = DateField(
        noun="Date of birth", past=True, required=False,
        label="Date of birth (optional)", help_text="For example, 27 3 1985",
    )  # fmt: skip
    requester_address = TextAreaField(
        label="Address (optional)", required=False, max_length=500,
        widget=_text_area(3),
    )  # fmt: skip
    requester_phone = forms.CharField(
        label="Phone number (optional)", required=False, max_length=30,
        widget=_text_input("20"),
    )  # fmt: skip
    received_on = DateField(
        noun="Date received", past=True, label="Date the request was received",
        help_text="The clock starts on this day, or on the day the identity "
        "is checked if that is later.",
    )  # fmt: skip


class IdentityForm(_Form):
    method = forms.ChoiceField(
        label="How was the requester's identity checked?",
        choices=IdentityMethod.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select how the identity was checked"},
    )  # fmt: skip
    checked_on = DateField(noun="Date checked", past=True,
                           label="Date the identity was confirmed")  # fmt: skip
    note = TextAreaField(label="Note (optional)", required=False, max_length=1000,
                         help_text="What was seen, without copying document "
                         "numbers.", widget=_text_area(3))  # fmt: skip


class ExtendForm(_Form):
    months = forms.TypedChoiceField(
        label="Extend the due date by", coerce=int,
        choices=[(1, "1 month"), (2, "2 months")], widget=forms.RadioSelect,
        error_messages={"required": "Select 1 or 2 months"},
    )  # fmt: skip
    reason = TextAreaField(
        label="Why more time is needed", max_length=1000, widget=_text_area(3),
        help_text="The request is complex, or one of several from this person. "
        "Tell the requester within one month of receipt.",
        error_messages={"required": "Enter why more time is needed"},
    )  # fmt: skip


class StatusForm(_Form):
    status = forms.ChoiceField(
        label="New status", widget=forms.RadioSelect,
        choices=[(s.value, s.label) for s in STATUSES_SET_BY_HAND],
        error_messages={"required": "Select a status"},
    )  # fmt: skip
    reason = TextAreaField(label="Reason for refusing (if refused)", required=False,
                           max_length=1000, widget=_text_area(3))  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == SarStatus.REFUSED and not cleaned.get("reason"):
            self.add_error("reason", "Enter why the request is refused")
        return cleaned


class ItemsAddForm(_Form):
    records = forms.MultipleChoiceField(
        label="Records to include", widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one record to include"},
    )  # fmt: skip

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["records"].choices = choices

    @property
    def chosen(self) -> list[tuple[str, int]]:
        pairs = []
        for value in self.cleaned_data["records"]:
            key, _, record_id = value.partition(":")
            pairs.append((key, int(record_id)))
        return pairs


class ItemReviewForm(_Form):
    decision = forms.ChoiceField(
        label="Decision", choices=ItemDecision.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select whether to disclose or withhold this "
                        "record"},
    )  # fmt: skip
    exemption = forms.ChoiceField(
        label="Exemption (if withheld)", required=False,
        choices=[("", "Choose an exemption"), *Exemption.choices],
        widget=forms.Select({"class": "govuk-select"}),
    )  # fmt: skip
    third_party_fields = forms.MultipleChoiceField(
        label="Fields about other people", required=False,
        help_text="Each field you select is replaced by “[withheld: third "
        "party]”.", widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    third_party_names = TextAreaField(
        label="Names of other people to hide", required=False, max_length=2000,
        help_text="One on each line. Wherever one appears in this record it is "
        "replaced by “[withheld: third party]”.", widget=_text_area(3),
    )  # fmt: skip

    def __init__(self, *args, labels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["third_party_fields"].choices = [(x, x) for x in labels]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == ItemDecision.WITHHOLD and not cleaned.get(
            "exemption"
        ):
            self.add_error("exemption", "Select the exemption that applies")
        return cleaned


class RightsRequestForm(_Form):
    kind = forms.ChoiceField(
        label="Kind of request", choices=RequestKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the kind of request"},
    )  # fmt: skip
    requester_name = forms.CharField(
        label="Requester's full name", max_length=200, widget=_text_input(),
        error_messages={"required": "Enter the requester's name"},
    )  # fmt: skip
    cases = TextAreaField(
        label="Case references", max_length=2000, widget=_text_area(3),
        help_text="One on each line, for example CM-2026-0001.",
        error_messages={"required": "Enter the reference of at least one case"},
    )  # fmt: skip
    received_on = DateField(noun="Date received", past=True,
                            label="Date the request was received")  # fmt: skip
    grounds = TextAreaField(
        label="Summary of the grounds", max_length=2000, widget=_text_area(4),
        error_messages={"required": "Summarise the requester's grounds"},
    )  # fmt: skip


class DecideForm(_Form):
    decision = forms.ChoiceField(
        label="Decision", choices=RequestDecision.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select whether the request is upheld or "
                        "refused"},
    )  # fmt: skip
    reasons = TextAreaField(
        label="Reasons", max_length=2000, widget=_text_area(4),
        error_messages={"required": "Enter the reasons for the decision"},
    )  # fmt: skip

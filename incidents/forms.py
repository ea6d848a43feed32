"""The forms of the incident pages, with GOV.UK messages."""

import re
from datetime import datetime, time

from django import forms
from django.utils import timezone

from documents.models import Share
from portal.forms import DateField, RefusesNullCharacters, TextAreaField
from referrals.models import Referral, ReferralShare

from .models import Containment, Decision, DecisionKind, Severity, Status
from .selectors import cases_reportable_by
from .services import share_label

_TEXT = forms.Textarea({"class": "govuk-textarea", "rows": 5})
_SHORT_TEXT = forms.Textarea({"class": "govuk-textarea", "rows": 3})
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
_REFERENCES = re.compile(r"[\s,;]+")


class _GovukForm(RefusesNullCharacters, forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class CaseChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.reference} ({obj.organisation})"


class ShareChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return share_label(obj)


class ReportForm(_GovukForm):
    what_happened = TextAreaField(
        label="What happened?",
        help_text=(
            "Say what was seen, sent, lost or changed, and how you found out. "
            "Name people only where you must: the incident's handlers can ask."
        ),
        max_length=5000,
        widget=_TEXT,
        error_messages={
            "required": "Enter what happened",
            "max_length": "What happened must be 5,000 characters or fewer",
        },
    )
    discovered_on = DateField(
        noun="Date it was discovered",
        past=True,
        label="When was it discovered?",
        help_text="For example, 27 3 2026.",
    )
    discovered_time = forms.CharField(
        label="Time it was discovered (optional)",
        help_text=(
            "For example, 14:30. Left blank, the 72 hours count from the start "
            "of that day."
        ),
        required=False,
        max_length=5,
        widget=forms.TextInput(
            {"class": "govuk-input govuk-input--width-5", "autocomplete": "off"}
        ),
    )
    happened_on = DateField(
        noun="Date it happened",
        past=True,
        required=False,
        label="When did it happen? (optional)",
        help_text="If you know. For example, 25 3 2026.",
    )
    cases = CaseChoiceField(
        queryset=None,
        to_field_name="reference",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Which cases does it concern? (optional)",
        help_text="Your most recent cases. Select all that apply.",
    )
    other_cases = forms.CharField(
        label="Other case references (optional)",
        help_text="Separate references with commas, for example CM-2026-0012.",
        required=False,
        max_length=500,
        widget=forms.TextInput({"class": "govuk-input", "autocomplete": "off"}),
    )
    files = ShareChoiceField(
        queryset=None,
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Which shared files does it concern? (optional)",
        help_text="Files shared with or by your organisation. Select all that apply.",
    )

    def __init__(self, *args, user, cases, shares, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if cases:
            self.fields["cases"].queryset = Referral.objects.filter(
                pk__in=[c.pk for c in cases]
            ).select_related("organisation")
        else:
            del self.fields["cases"]
        if shares:
            self.fields["files"].queryset = Share.objects.filter(
                pk__in=[s.pk for s in shares]
            ).prefetch_related("files")
        else:
            del self.fields["files"]

    def clean_discovered_time(self):
        value = self.cleaned_data["discovered_time"].strip()
        if not value:
            return None
        match = _TIME.match(value)
        if not match:
            raise forms.ValidationError(
                "Enter the time as hours and minutes, for example 14:30"
            )
        return time(int(match.group(1)), int(match.group(2)))

    def clean_other_cases(self):
        text = self.cleaned_data["other_cases"].strip().upper()
        references = [r for r in _REFERENCES.split(text) if r]
        if not references:
            return []
        visible = cases_reportable_by(self.user).filter(reference__in=references)
        found = {r.reference: r for r in visible}
        unknown = [r for r in references if r not in found]
        if unknown:
            # The same words whether the case does not exist or is not
            # theirs to see: a report must not confirm that a case exists.
            raise forms.ValidationError(
                f"You cannot name {', '.join(unknown)}: check the reference. "
                "You can name only cases you can see"
            )
        return list(found.values())

    def clean(self):
        data = super().clean()
        day = data.get("discovered_on")
        if day is not None and "discovered_time" not in self.errors:
            at = timezone.make_aware(
                datetime.combine(day, data.get("discovered_time") or time.min)
            )
            if at > timezone.now():
                self.add_error(
                    "discovered_time", "The time it was discovered must be in the past"
                )
            data["discovered_at"] = at
        happened = data.get("happened_on")
        if happened and day and happened > day:
            self.add_error(
                "happened_on",
                "Date it happened must be on or before the date it was discovered",
            )
        chosen = list(data.get("cases") or [])
        for referral in data.get("other_cases") or []:
            if referral not in chosen:
                chosen.append(referral)
        data["referrals"] = chosen
        return data


class TriageForm(_GovukForm):
    severity = forms.ChoiceField(
        label="How severe is it?",
        choices=Severity.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how severe the incident is"},
    )
    status = forms.ChoiceField(
        label="Status",
        choices=Status.choices,
        widget=forms.RadioSelect,
        help_text="Close it only once both notification decisions are recorded.",
        error_messages={"required": "Select the incident's status"},
    )


class DecisionForm(_GovukForm):
    decision = forms.ChoiceField(
        label="What did you decide?",
        choices=Decision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether to notify"},
    )
    reasons = TextAreaField(
        label="Reasons",
        help_text="The likely risk to people's rights and freedoms, and why.",
        max_length=5000,
        widget=_TEXT,
        error_messages={
            "required": "Enter the reasons for the decision",
            "max_length": "The reasons must be 5,000 characters or fewer",
        },
    )
    ico_reference = forms.CharField(
        label="ICO reference (optional)",
        help_text="The reference the ICO gave when you reported it.",
        required=False,
        max_length=40,
        widget=forms.TextInput(
            {"class": "govuk-input govuk-input--width-20", "autocomplete": "off"}
        ),
    )

    def __init__(self, *args, kind, **kwargs):
        super().__init__(*args, **kwargs)
        if kind == DecisionKind.ICO:
            self.fields["decision"].label = "Will you tell the ICO?"
        else:
            self.fields["decision"].label = "Will you tell the people affected?"
            del self.fields["ico_reference"]


class TargetField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if isinstance(obj, Share):
            return share_label(obj)
        if isinstance(obj, ReferralShare):
            return f"{obj.referral.reference}: {obj.organisation}"
        return obj.name_with_organisation


_TARGET_LABELS = {
    Containment.RECALL_FILES: ("Which files?", "Select the files to recall"),
    Containment.END_CASE_SHARE: ("Whose access?", "Select the access to end"),
    Containment.DEACTIVATE_USER: ("Who?", "Select the person"),
    Containment.RESET_SECOND_FACTOR: ("Who?", "Select the person"),
}


class ContainmentForm(_GovukForm):
    target = TargetField(queryset=None)
    reason = TextAreaField(
        label="Why?",
        help_text="The incident's timeline and the audit log keep this.",
        max_length=480,
        widget=_SHORT_TEXT,
        error_messages={
            "required": "Enter why you are taking this action",
            "max_length": "The reason must be 480 characters or fewer",
        },
    )

    def __init__(self, *args, action, choices, **kwargs):
        super().__init__(*args, **kwargs)
        label, required = _TARGET_LABELS[action]
        field = self.fields["target"]
        field.queryset = choices
        if action == Containment.RECALL_FILES:
            field.to_field_name = "public_id"  # as in every address of a share
        field.label = label
        field.error_messages["required"] = required
        field.error_messages["invalid_choice"] = required
        if action in (Containment.DEACTIVATE_USER, Containment.RESET_SECOND_FACTOR):
            field.widget = forms.Select({"class": "govuk-select"})
            field.empty_label = "Select a person"
        else:
            field.widget = forms.RadioSelect()
            field.empty_label = None
        field.widget.choices = field.choices

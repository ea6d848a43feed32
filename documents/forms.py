import uuid
from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from files.checks import ACCEPTED_LABEL, max_upload_bytes
from portal.dates import long_date
from portal.forms import DateField, RefusesNullCharacters, TextAreaField

from .models import ShareTarget

_SELECT = {"class": "govuk-select"}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True
    template_name = "django/forms/widgets/file.html"


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked by the service."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if not files and self.required:
            raise forms.ValidationError(
                self.error_messages["required"], code="required"
            )
        return [forms.FileField.clean(self, item, initial) for item in files]


def end_of_day(day) -> datetime:
    """Shares expire at the end of the chosen day, UK time."""
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


class ShareForm(RefusesNullCharacters, forms.Form):
    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    files = MultipleFileField(
        label="Files to share",
        help_text=(
            f"You can select more than one. Each must be a {ACCEPTED_LABEL}, "
            f"smaller than {max_upload_bytes() // (1024 * 1024)} MB."
        ),
        widget=MultipleFileInput({"class": "govuk-file-upload"}),
        # An empty file is refused by files.checks, with the file's name.
        allow_empty_file=True,
        error_messages={"required": "Select at least one file to share"},
    )
    target = forms.ChoiceField(
        label="Who should receive the files?",
        widget=forms.RadioSelect,
        error_messages={"required": "Select who should receive the files"},
    )
    organisations = forms.ModelMultipleChoiceField(
        label="Organisations",
        help_text="Only if you chose named organisations.",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    referral = forms.CharField(
        label="Referral reference",
        help_text=(
            "Only if you chose a referral. For example, CM-2026-0001. The files "
            "go to every organisation that can see the referral."
        ),
        required=False,
        max_length=20,
        widget=forms.TextInput({"class": "govuk-input govuk-input--width-10"}),
    )
    meeting = forms.ModelChoiceField(
        label="Meeting",
        help_text=(
            "Only if you chose a meeting. The files go to every agency invited "
            "to a case on its agenda."
        ),
        queryset=None,
        required=False,
        empty_label="Choose a meeting",
        widget=forms.Select(_SELECT),
    )
    note = TextAreaField(
        label="Note for the recipients (optional)",
        help_text="Say what the files are and what you need from the recipients.",
        required=False,
        max_length=2000,
        widget=forms.Textarea({"class": "govuk-textarea", "rows": 4}),
        error_messages={"max_length": "The note must be 2,000 characters or fewer"},
    )
    expires = DateField(
        noun="Expiry date",
        future=True,
        label="Available until",
        help_text=(
            f"The files stop being available at the end of this day. "
            f"At most {settings.DOCUMENTS_MAX_EXPIRY_DAYS} days from today."
        ),
        error_messages={"required": "Enter the date the files stop being available"},
    )

    def __init__(self, *args, organisations, referral_lookup, meetings, **kwargs):
        super().__init__(*args, **kwargs)
        self.referral_lookup = referral_lookup
        self.fields["organisations"].queryset = organisations
        self.fields["meeting"].queryset = meetings
        choices = [ShareTarget.ORGANISATIONS, ShareTarget.REFERRAL]
        if meetings.exists():
            choices.append(ShareTarget.MEETING)
        self.fields["target"].choices = [(c.value, c.label) for c in choices]
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())
            self.initial.setdefault(
                "expires",
                timezone.localdate()
                + timedelta(days=settings.DOCUMENTS_DEFAULT_EXPIRY_DAYS),
            )

    def clean_referral(self):
        reference = self.cleaned_data["referral"].strip().upper()
        if not reference:
            return None
        referral = self.referral_lookup(reference)
        if referral is None:
            raise forms.ValidationError(
                "Enter the reference of a referral you can see, like CM-2026-0001"
            )
        return referral

    def clean_expires(self):
        day = self.cleaned_data["expires"]
        latest = timezone.localdate() + timedelta(
            days=settings.DOCUMENTS_MAX_EXPIRY_DAYS
        )
        if day and day > latest:
            raise forms.ValidationError(
                f"Expiry date must be on or before {long_date(latest)}, "
                f"{settings.DOCUMENTS_MAX_EXPIRY_DAYS} days from today"
            )
        return day

    def clean(self):
        data = super().clean()
        target = data.get("target")
        if target == ShareTarget.ORGANISATIONS and not data.get("organisations"):
            self.add_error("organisations", "Select at least one organisation")
        if (
            target == ShareTarget.REFERRAL
            and not data.get("referral")
            and "referral" not in self.errors
        ):
            self.add_error("referral", "Enter the referral reference")
        if target == ShareTarget.MEETING and not data.get("meeting"):
            self.add_error("meeting", "Choose a meeting")
        return data

    def recipients(self) -> dict:
        """The service's keyword arguments for the chosen kind of recipient."""
        data = self.cleaned_data
        target = data["target"]
        return {
            "organisations": list(data["organisations"])
            if target == ShareTarget.ORGANISATIONS
            else None,
            "referral": data["referral"] if target == ShareTarget.REFERRAL else None,
            "meeting": data["meeting"] if target == ShareTarget.MEETING else None,
        }

    def expires_at(self) -> datetime:
        return end_of_day(self.cleaned_data["expires"])


class ShortenExpiryForm(RefusesNullCharacters, forms.Form):
    expires = DateField(
        noun="New expiry date",
        future=True,
        label="New date the files stop being available",
        help_text="Must be earlier than the current date. It cannot be extended.",
        error_messages={"required": "Enter the new expiry date"},
    )


class RecallForm(RefusesNullCharacters, forms.Form):
    reason = TextAreaField(
        label="Why are you recalling these files?",
        help_text="Recipients see this. Do not include personal details.",
        max_length=500,
        widget=forms.Textarea({"class": "govuk-textarea", "rows": 3}),
        error_messages={
            "required": "Enter why you are recalling the files",
            "max_length": "The reason must be 500 characters or fewer",
        },
    )

"""Forms for legal holds (coordinators): see ``referrals.retention``."""

from django import forms

from portal.forms import DateField, RefusesNullCharacters, TextAreaField


class LegalHoldForm(RefusesNullCharacters, forms.Form):
    reason = TextAreaField(
        label="Why must the case be kept?",
        help_text="For example, court proceedings or an inquiry that may need it.",
        max_length=2000,
        widget=forms.Textarea({"class": "govuk-textarea", "rows": 4}),
        error_messages={"required": "Enter why the case must be kept"},
    )
    review_date = DateField(
        noun="Review date",
        future=True,
        label="When should the hold be reviewed?",
        help_text="For example, 27 3 2027.",
        error_messages={"required": "Enter the date the hold will be reviewed"},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class LegalHoldRemoveForm(RefusesNullCharacters, forms.Form):
    reason = TextAreaField(
        label="Why is the hold no longer needed?",
        max_length=2000,
        widget=forms.Textarea({"class": "govuk-textarea", "rows": 4}),
        error_messages={"required": "Enter why the hold is no longer needed"},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

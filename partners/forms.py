"""The forms of the withdrawal pages, with GOV.UK messages."""

from django import forms

from portal.forms import DateField, RefusesNullCharacters, TextAreaField


class _GovukForm(RefusesNullCharacters, forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class OrganisationField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class WithdrawalForm(_GovukForm):
    organisation = OrganisationField(
        queryset=None,
        label="Which organisation is withdrawing?",
        empty_label="Choose an organisation",
        widget=forms.Select({"class": "govuk-select"}),
        error_messages={
            "required": "Select the organisation that is withdrawing",
            "invalid_choice": "Select an organisation from the list",
        },
    )
    withdrawn_on = DateField(
        noun="Date of withdrawal",
        past=True,
        label="When did it withdraw?",
        help_text="The date its notice took effect. For example, 27 3 2026.",
    )
    reason = TextAreaField(
        label="Why is it withdrawing?",
        help_text=(
            "For example, the service has been decommissioned. Do not name "
            "people: this is kept with the record of the withdrawal."
        ),
        max_length=2000,
        widget=forms.Textarea({"class": "govuk-textarea", "rows": 4}),
        error_messages={
            "required": "Enter why the organisation is withdrawing",
            "max_length": "The reason must be 2,000 characters or fewer",
        },
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class CertificateForm(_GovukForm):
    destroyed = forms.BooleanField(
        label=(
            "I confirm that my organisation has destroyed every copy of "
            "everything listed above, on paper and electronically"
        ),
        error_messages={
            "required": "Confirm that everything listed has been destroyed",
        },
    )
    name = forms.CharField(
        label="Your full name",
        max_length=200,
        widget=forms.TextInput({"class": "govuk-input", "autocomplete": "name"}),
        error_messages={"required": "Enter your full name"},
    )
    role = forms.CharField(
        label="Your job title",
        max_length=200,
        widget=forms.TextInput(
            {"class": "govuk-input", "autocomplete": "organization-title"}
        ),
        error_messages={"required": "Enter your job title"},
    )

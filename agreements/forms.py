from django import forms

from portal.forms import RefusesNullCharacters

from .models import Acknowledgement


class AcknowledgementForm(RefusesNullCharacters, forms.Form):
    confirm = forms.BooleanField(
        label=(
            "I confirm that I have read this agreement and that my organisation "
            "will share, store and manage information as it sets out"
        ),
        error_messages={"required": "Confirm that your organisation agrees"},
    )
    signatory_name = forms.CharField(
        label="Your full name",
        max_length=200,
        error_messages={"required": "Enter your full name"},
        widget=forms.TextInput(attrs={"autocomplete": "name", "class": "govuk-input"}),
    )
    signatory_role = forms.CharField(
        label="Your job title",
        help_text="As it should appear on the receipt, for example Head of Housing.",
        max_length=200,
        error_messages={"required": "Enter your job title"},
        widget=forms.TextInput(
            attrs={"autocomplete": "organization-title", "class": "govuk-input"}
        ),
    )


class ReceiptLookupForm(RefusesNullCharacters, forms.Form):
    receipt = forms.CharField(
        label="Receipt number",
        help_text="The 64-character receipt hash printed on the receipt.",
        max_length=100,
        error_messages={"required": "Enter the receipt number"},
        widget=forms.TextInput(
            attrs={"class": "govuk-input", "spellcheck": "false", "autocomplete": "off"}
        ),
    )

    def clean_receipt(self):
        value = "".join(self.cleaned_data["receipt"].split()).lower()
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise forms.ValidationError(
                "A receipt number is 64 characters, using 0 to 9 and a to f"
            )
        return value

    def acknowledgement(self) -> Acknowledgement | None:
        found = (
            Acknowledgement.objects.select_related("version")
            .filter(hash=self.cleaned_data["receipt"])
            .first()
        )
        # Genuine only if the stored content still produces the stored hash.
        if found is not None and found.compute_hash() == found.hash:
            return found
        return None

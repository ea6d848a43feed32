"""The data protection officer's person search (GOV.UK error messages)."""

from django import forms

from portal.forms import RefusesNullCharacters

from .matching import PersonQuery, query_read

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

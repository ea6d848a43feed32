from django import forms

from portal.forms import RefusesNullCharacters

from .models import CHOOSABLE


class EmailChoicesForm(RefusesNullCharacters, forms.Form):
    """One check box per kind of notice a person may choose email for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in CHOOSABLE:
            self.fields[kind.value] = forms.BooleanField(
                label=kind.label, required=False
            )

"""Forms coordinators use to record a meeting: attendance, each case's
discussion and actions, and the general minutes."""

from django import forms

from portal.forms import DateField, RefusesNullCharacters, TextAreaField
from referrals.models import RiskLevel

from .models import AttendanceStatus

_SELECT = {"class": "govuk-select"}
_TEXTAREA = {"class": "govuk-textarea", "rows": 6}


class OrganisationField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class AttendanceForm(RefusesNullCharacters, forms.Form):
    organisation = OrganisationField(
        label="Organisation",
        queryset=None,
        widget=forms.Select(_SELECT),
        empty_label="Choose an organisation",
        error_messages={
            "required": "Select the organisation",
            "invalid_choice": "Select an organisation from the list",
        },
    )
    name = forms.CharField(
        label="Name",
        help_text="Saving the same organisation and name again updates that row.",
        max_length=200,
        error_messages={
            "required": "Enter the name of the person",
            "max_length": "Name must be 200 characters or fewer",
        },
    )
    status = forms.ChoiceField(
        label="Attendance",
        choices=AttendanceStatus.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether they were present"},
    )
    confidentiality_confirmed = forms.BooleanField(
        label="They confirmed the confidentiality statement", required=False
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class DiscussionForm(RefusesNullCharacters, forms.Form):
    discussion = TextAreaField(
        label="Discussion summary",
        max_length=20000,
        widget=forms.Textarea(_TEXTAREA),
        error_messages={
            "required": "Enter a summary of the discussion",
            "max_length": "Discussion summary must be 20,000 characters or fewer",
        },
    )
    risk_after = forms.ChoiceField(
        label="Risk level after discussion",
        help_text="Sets the next review: high in 2 weeks, medium in 4, standard in 8.",
        choices=RiskLevel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the risk level after discussion"},
    )
    decisions = TextAreaField(
        label="Decisions",
        required=False,
        max_length=20000,
        widget=forms.Textarea(_TEXTAREA),
        error_messages={"max_length": "Decisions must be 20,000 characters or fewer"},
    )


class ActionForm(RefusesNullCharacters, forms.Form):
    owner = OrganisationField(
        label="Which organisation owns the action?",
        queryset=None,
        widget=forms.Select(_SELECT),
        empty_label="Choose an invited organisation",
        error_messages={
            "required": "Select the organisation that owns the action",
            "invalid_choice": "Select an organisation invited to this case",
        },
    )
    officer = forms.CharField(
        label="Named officer",
        max_length=200,
        error_messages={
            "required": "Enter the named officer",
            "max_length": "Named officer must be 200 characters or fewer",
        },
    )
    description = TextAreaField(
        label="Action",
        max_length=5000,
        widget=forms.Textarea({"class": "govuk-textarea", "rows": 4}),
        error_messages={
            "required": "Enter the action",
            "max_length": "Action must be 5,000 characters or fewer",
        },
    )
    due = DateField(
        noun="Due date",
        future=True,
        label="Due date",
        help_text="For example, 27 3 2027",
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = organisations


class MinutesForm(RefusesNullCharacters, forms.Form):
    general_minutes = TextAreaField(
        label="General minutes",
        help_text="Apologies, matters arising and anything not about a case. "
        "Each agency's minutes also hold the cases it was invited to.",
        required=False,
        max_length=50000,
        widget=forms.Textarea({"class": "govuk-textarea", "rows": 12}),
        error_messages={
            "max_length": "General minutes must be 50,000 characters or fewer"
        },
    )

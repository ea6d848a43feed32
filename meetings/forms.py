import re
from datetime import datetime, time

from django import forms
from django.utils import timezone

from portal.forms import DateField, RefusesNullCharacters, TextAreaField
from referrals.forms import ShareReasonField
from referrals.models import ShareReason
from referrals.selectors import REFERENCE_PATTERN

from .models import ActionStatus, MeetingKind, Reply


class ActionUpdateForm(RefusesNullCharacters, forms.Form):
    status = forms.ChoiceField(
        label="Where is this action now?",
        choices=ActionStatus.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select where this action is now"},
    )
    update = TextAreaField(
        label="Progress note",
        help_text="What has been done, and what happens next. Other agencies at "
        "the case's next meeting will read this.",
        max_length=5000,
        widget=forms.Textarea({"class": "govuk-textarea", "rows": 5}),
        error_messages={
            "required": "Enter a progress note",
            "max_length": "Your progress note must be 5,000 characters or fewer",
        },
    )


# Building a meeting (coordinators) ---------------------------------------------

_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
_SELECT = {"class": "govuk-select"}


class ChairField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class MeetingScheduleForm(RefusesNullCharacters, forms.Form):
    kind = forms.ChoiceField(
        label="What kind of meeting is it?",
        choices=MeetingKind.choices,
        initial=MeetingKind.FULL,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what kind of meeting it is"},
    )
    day = DateField(
        noun="Date of the meeting",
        future=True,
        label="Date of the meeting",
        help_text="For example, 27 3 2027",
    )
    time = forms.CharField(
        label="Start time",
        help_text="Use the 24-hour clock, for example 10:00 or 14:30",
        max_length=5,
        widget=forms.TextInput({"class": "govuk-input govuk-input--width-5"}),
        error_messages={"required": "Enter the start time"},
    )
    location = forms.CharField(
        label="Where is the meeting? (optional if it is online)",
        max_length=300,
        required=False,
    )
    online_link = forms.URLField(
        label="Online meeting link (optional)",
        required=False,
        assume_scheme="https",
        error_messages={
            "invalid": "Enter the online link as a full web address, like "
            "https://meet.example.org/cmarac"
        },
    )
    chair = ChairField(
        label="Chair",
        queryset=None,
        widget=forms.Select(_SELECT),
        empty_label="Choose the chair",
        error_messages={"required": "Select who chairs the meeting"},
    )
    referral_deadline = DateField(
        noun="Referral deadline",
        label="Referral deadline (optional)",
        required=False,
        help_text="Referrals accepted by this date can go on the agenda. Leave it "
        "empty for 10 working days before the meeting.",
    )
    reported_to = forms.ModelChoiceField(
        label="For an urgent meeting: the full meeting it reports to (optional)",
        queryset=None,
        required=False,
        widget=forms.Select(_SELECT),
        empty_label="None",
    )

    def __init__(self, *args, chairs, full_meetings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chair"].queryset = chairs
        self.fields["reported_to"].queryset = full_meetings

    def clean_time(self):
        match = _TIME.match(self.cleaned_data["time"].strip())
        if not match:
            raise forms.ValidationError(
                "Enter the start time as hours and minutes on the 24-hour clock, "
                "like 10:00 or 14:30",
                code="invalid",
            )
        return time(int(match.group(1)), int(match.group(2)))

    def clean(self):
        data = super().clean()
        if not data.get("location", "").strip() and not data.get("online_link"):
            self.add_error("location", "Enter where the meeting is, or its online link")
        day, deadline = data.get("day"), data.get("referral_deadline")
        if day and deadline and deadline >= day:
            self.add_error(
                "referral_deadline",
                "Referral deadline must be before the date of the meeting",
            )
        if data.get("reported_to") and data.get("kind") != MeetingKind.URGENT:
            self.add_error(
                "reported_to",
                "Only an urgent meeting reports to a full meeting: choose None, "
                "or make this an urgent meeting",
            )
        return data

    def starts_at(self) -> datetime:
        data = self.cleaned_data
        return timezone.make_aware(datetime.combine(data["day"], data["time"]))


class InvitedField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


def _share_reason() -> ShareReasonField:
    # Recorded on each organisation newly invited (the case is shared with
    # it); one organisation's reason is changed on the case page.
    return ShareReasonField(
        label="Why do the organisations you invite need to see the case?",
        initial=ShareReason.INFORMATION,
        required=False,
        help_text="Recorded for each organisation you newly invite. You can "
        "change it for one organisation under 'Who can see this case and why' "
        "on the case page.",
    )


class _ShareReasonMixin:
    def clean_share_reason(self):
        # Not chosen (an older page, or a script): the usual reason.
        return self.cleaned_data.get("share_reason") or ShareReason.INFORMATION


# The "Another case" radio of the agenda builder: its reference is typed.
ANOTHER_CASE = "another"


class AgendaItemAddForm(_ShareReasonMixin, RefusesNullCharacters, forms.Form):
    """Add a case: one of the cases the page lists (``case``), or another
    one by its reference (``referral``), so the page lists a few cases
    rather than every one waiting (issue 23).

    ``referrals`` (the cases the coordinator can see) checks what is posted,
    whatever the page offered; the service then applies the agenda's rules
    with its own messages. ``listed`` is the references the page lists, or
    None when only a post is checked. After ``is_valid()``,
    ``cleaned_data["referral"]`` is the case."""

    case = forms.CharField(
        label="Which case do you want to add?",
        required=False,
        max_length=20,
        error_messages={"max_length": "Select a case from the list"},
        # Drawn by the agenda builder's template: each listed case has a hint.
        widget=forms.RadioSelect,
    )
    referral = forms.CharField(
        label="Case reference",
        help_text="For example, CM-2026-0005",
        required=False,
        max_length=20,
        widget=forms.TextInput(
            {"class": "govuk-input govuk-input--width-10", "spellcheck": "false"}
        ),
        error_messages={"max_length": "Case reference must be 20 characters or fewer"},
    )
    invited = InvitedField(
        label="Which organisations are invited to this case?",
        queryset=None,
        required=False,
        help_text="The referring organisation is always invited, whether or not "
        "you select it.",
    )
    share_reason = _share_reason()
    slot_minutes = forms.IntegerField(
        label="Time for the case, in minutes",
        initial=15,
        min_value=5,
        max_value=120,
        widget=forms.TextInput(
            {"class": "govuk-input govuk-input--width-3", "inputmode": "numeric"}
        ),
        error_messages={
            "required": "Enter the time for the case, in minutes",
            "invalid": "Time for the case must be a whole number of minutes",
            "min_value": "Time for the case must be 5 minutes or more",
            "max_value": "Time for the case must be 120 minutes or fewer",
        },
    )

    def __init__(self, data=None, *, referrals, listed=None, organisations, **kw):
        if data is not None:
            data = self._as_chosen(data, listed)
        super().__init__(data, **kw)
        self.referrals = referrals
        self.fields["invited"].queryset = organisations

    @staticmethod
    def _as_chosen(data, listed):
        """A reference entered with no radio chosen is "Another case"; a
        listed case the page no longer lists (added since, by someone else)
        moves to the empty box, so what was chosen is kept and its refusal
        shows beside it."""
        picked, typed = data.get("case", ""), data.get("referral", "")
        if not picked and typed:
            picked = ANOTHER_CASE
        elif (
            listed is not None
            and picked not in {"", ANOTHER_CASE, *listed}
            and not typed.strip()
        ):
            picked, typed = ANOTHER_CASE, picked
        else:
            return data
        data = data.copy()
        data["case"], data["referral"] = picked, typed
        return data

    def clean(self):
        data = super().clean()
        if "case" in self.errors or "referral" in self.errors:
            return data
        picked, entered = data.get("case", ""), data.get("referral", "").strip()
        if not picked:
            self.add_error("case", "Select a case to add, or enter its reference")
            return data
        if picked != ANOTHER_CASE and entered and entered.upper() != picked.upper():
            # The box is always shown: which of the two was meant is not ours
            # to guess, and adding a case shares it with other agencies.
            self.add_error(
                "case", "Choose a case from the list or enter a reference, not both"
            )
            return data
        reference = (entered if picked == ANOTHER_CASE else picked).strip().upper()
        field = "referral" if picked == ANOTHER_CASE else "case"
        if not reference:
            self.add_error(field, "Enter the case reference")
        elif not REFERENCE_PATTERN.match(reference):
            self.add_error(
                field, "Enter the case reference in the right form, like CM-2026-0005"
            )
        # The same answer for a case that does not exist and one the
        # coordinator cannot see: the form never confirms a reference.
        elif (case := self.referrals.filter(reference=reference).first()) is None:
            self.add_error(
                field, f"There is no case {reference} that you can see: check "
                "the reference"
            )  # fmt: skip
        else:
            data["referral"] = case
        return data

    def refusal_field(self) -> str:
        """Where a refusal of the chosen case goes: by the radios for a
        listed case, by the box for one typed."""
        return "case" if self["case"].value() not in ("", ANOTHER_CASE) else "referral"


class InvitationsForm(_ShareReasonMixin, RefusesNullCharacters, forms.Form):
    invited = InvitedField(
        label="Which other organisations are invited to this case?",
        queryset=None,
        required=False,
    )
    share_reason = _share_reason()

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invited"].queryset = organisations


# Invited people's own replies ---------------------------------------------------


class DeputyField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class ReplyForm(RefusesNullCharacters, forms.Form):
    reply = forms.ChoiceField(
        label="Will you attend?",
        choices=Reply.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you will attend"},
    )
    deputy = DeputyField(
        label="Deputy (optional)",
        help_text="If you send apologies, a colleague from your organisation "
        "who will come instead. They are invited and reply for themselves.",
        queryset=None,
        required=False,
        widget=forms.Select(_SELECT),
        empty_label="No deputy",
        error_messages={"invalid_choice": "Choose a deputy from the list"},
    )

    def __init__(self, *args, deputies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deputy"].queryset = deputies

    def clean(self):
        data = super().clean()
        if data.get("deputy") and data.get("reply") != Reply.APOLOGIES:
            self.add_error("deputy", "Name a deputy only when you send apologies")
        return data


class ConfidentialityForm(RefusesNullCharacters, forms.Form):
    confirm = forms.BooleanField(
        label="I confirm the confidentiality statement for this meeting",
        error_messages={
            "required": "Confirm the confidentiality statement to download "
            "this meeting's papers"
        },
    )

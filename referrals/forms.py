"""The referral form: one Django form per section, some with repeatable items.

The sections are the schema. Drafts keep the raw data these forms are bound
to; check-your-answers, the case page, the PDF and the admin all read labels
and values from here, so a question is defined once.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.forms.utils import ErrorDict

from accounts.models import OrganisationType
from files.checks import ACCEPTED_LABEL, max_upload_bytes
from portal.forms import (
    DateField,
    PhoneField,
    PostcodeField,
    RefusesNullCharacters,
    TextAreaField,
)

from .models import AttachmentVisibility, PersonRole, RiskLevel, ShareReason

YES_NO = [("yes", "Yes"), ("no", "No")]
YES_NO_UNKNOWN = [("yes", "Yes"), ("no", "No"), ("not_known", "Not known")]


def _radios(label, choices, *, required=True, help_text="", messages=None):
    return forms.ChoiceField(
        label=label,
        choices=choices,
        widget=forms.RadioSelect,
        required=required,
        help_text=help_text,
        error_messages=messages or {},
    )


def _text(
    label, *, required=False, max_length=200, help_text="", width=None,
    autocomplete="off", **kw,
):  # fmt: skip
    css = "govuk-input" + (f" govuk-input--width-{width}" if width else "")
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        widget=forms.TextInput({"class": css, "autocomplete": autocomplete}),
        **kw,
    )


def _long(label, *, required=False, help_text="", rows=4, **kw):
    return forms.CharField(
        label=label,
        required=required,
        max_length=5000,
        help_text=help_text,
        widget=forms.Textarea({"class": "govuk-textarea", "rows": rows}),
        **kw,
    )


def _required(message):
    return {"required": message}


class SectionForm(RefusesNullCharacters, forms.Form):
    """Base for section forms: GOV.UK error messages for required fields.

    ``show_errors`` False shows what was typed without error messages or
    validation (a page someone comes back to: ``BoundSection.quiet``).
    """

    show_errors = True

    @property
    def errors(self):
        if not self.show_errors:
            return ErrorDict(renderer=self.renderer)
        return super().errors

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for name, form_field in self.fields.items():
            if "required" not in form_field.error_messages or form_field.error_messages[
                "required"
            ].startswith("This field"):
                verb = (
                    "Select"
                    if isinstance(
                        form_field.widget,
                        forms.RadioSelect | forms.CheckboxSelectMultiple | forms.Select,
                    )
                    else "Enter"
                )
                form_field.error_messages["required"] = (
                    f"{verb} {form_field.label[0].lower()}{form_field.label[1:]}"
                    if form_field.label
                    else f"{verb} {name}"
                )

        for form_field in self.fields.values():
            if getattr(form_field, "max_length", None) and form_field.label:
                # A question makes a poor subject: "Your answer must be ...".
                label = str(form_field.label)
                subject = "Your answer" if label.endswith("?") else label
                form_field.error_messages["max_length"] = (
                    f"{subject} must be {form_field.max_length:,} characters or fewer"
                )

    def require(self, name, message):
        """Add a required-field error for a field that depends on another.

        Not on top of the field's own error (too long, not a real date): one
        message per field is what the page can show next to it.
        """
        if name not in self.errors and not self.cleaned_data.get(name):
            self.add_error(name, message)


# 1. Eligibility ---------------------------------------------------------------


OTHER_PANELS = [
    ("none", "No, no other panel holds this case"),
    ("da_marac", "Domestic abuse MARAC"),
    ("mappa", "MAPPA (multi-agency public protection arrangements)"),
    ("child_safeguarding", "Child safeguarding (children's social care or the MASH)"),
    ("asb_case_review", "ASB case review"),
]

# Where a case held elsewhere should go instead: said plainly, next to the field.
OTHER_PANEL_POINTERS = {
    "da_marac": (
        "Domestic abuse cases go to the domestic abuse MARAC. Send the referral "
        "to your organisation's MARAC representative instead."
    ),
    "mappa": (
        "MAPPA manages this person's risk already. Speak to the police or "
        "probation MAPPA coordinator about sharing your concerns there."
    ),
    "child_safeguarding": (
        "Children's social care holds this case. Share your concerns with the "
        "child's social worker or the MASH."
    ),
    "asb_case_review": (
        "An ASB case review is under way. Add your information to that review "
        "through the council's ASB team."
    ),
}


class EligibilityForm(SectionForm):
    vulnerable = forms.MultipleChoiceField(
        label="Who in this case is vulnerable?",
        help_text="Select all that apply.",
        choices=[
            ("victim", "A victim of anti-social behaviour"),
            ("witness", "A witness"),
            ("causing_harm", "The person causing harm"),
        ],
        widget=forms.CheckboxSelectMultiple,
        error_messages=_required("Select who in this case is vulnerable"),
    )
    escalating = _radios(
        "Is the risk significant or escalating?",
        YES_NO,
        messages=_required("Select yes if the risk is significant or escalating"),
    )
    multi_agency_reason = _long(
        "Why does this case need a multi-agency approach?",
        required=True,
        help_text="For example, what single agencies have tried and why it has not "
        "been enough.",
        error_messages=_required("Enter why this case needs a multi-agency approach"),
    )
    other_panel = _radios(
        "Is this case already held by another panel?",
        OTHER_PANELS,
        messages=_required("Select whether another panel already holds this case"),
    )
    urgent = _radios(
        "Is there a risk of serious harm before the next CMARAC meeting?",
        YES_NO,
        help_text="If yes, the coordinator is told straight away.",
        messages=_required("Select yes if there is a risk of serious harm before the "
                           "next meeting"),
    )  # fmt: skip
    urgency_reason = _long("What is the risk, and how soon?", rows=3)

    def clean(self):
        data = super().clean()
        panel = data.get("other_panel")
        if panel in OTHER_PANEL_POINTERS:
            self.add_error("other_panel", OTHER_PANEL_POINTERS[panel])
        if data.get("urgent") == "yes":
            self.require("urgency_reason", "Enter what the risk is and how soon")
        return data


# 2. Referrer ------------------------------------------------------------------


class ReferrerForm(SectionForm):
    # The referrer's own details carry their input purpose, so browsers and
    # assistive technology can fill them in: WCAG 2.2 SC 1.3.5,
    # https://www.w3.org/TR/WCAG22/#input-purposes. Details of the people in
    # the case stay autocomplete="off": they are not the user's own.
    name = _text("Your full name", required=True, width=20, autocomplete="name")
    job_title = _text(
        "Your job title", required=True, width=20, autocomplete="organization-title"
    )
    email = forms.EmailField(
        label="Your work email address",
        widget=forms.EmailInput({"class": "govuk-input govuk-input--width-20",
                                 "spellcheck": "false", "autocomplete": "email"}),
        error_messages={
            "required": "Enter your work email address",
            "invalid": "Enter an email address in the correct format, like "
            "name@example.org.uk",
        },
    )  # fmt: skip
    phone = PhoneField(
        label="Your phone number",
        error_messages=_required("Enter your phone number"),
        autocomplete="tel",
    )
    line_manager_aware = _radios(
        "Is your line manager aware of this referral?",
        YES_NO,
        messages=_required("Select yes if your line manager is aware"),
    )
    presenter = _text(
        "Who will present the case at the meeting?",
        required=True,
        help_text="Their name and job title.",
        error_messages=_required("Enter who will present the case"),
    )


# 3. Referral type -------------------------------------------------------------


class ReferralTypeForm(SectionForm):
    kind = _radios(
        "Is this a new or a repeat referral?",
        [("new", "New referral"), ("repeat", "Repeat referral")],
        messages=_required("Select whether this is a new or a repeat referral"),
    )
    last_cmarac_date = DateField(
        noun="Date of the last CMARAC", required=False, past=True,
        label="When was the case last at the CMARAC?",
        help_text="For example, 27 3 2026. Only for a repeat referral.",
    )  # fmt: skip
    referred_elsewhere = _long(
        "Has the case been referred anywhere else?",
        help_text="Where, when and what happened.",
        rows=3,
    )
    police_reference = _text(
        "Police reference numbers", help_text="For example, CAD or crime numbers."
    )
    agency_references = _text("Other agencies' reference numbers")

    def clean(self):
        data = super().clean()
        if data.get("kind") == "repeat" and not self.errors.get("last_cmarac_date"):
            self.require(
                "last_cmarac_date", "Enter the date of the last CMARAC meeting"
            )
        return data


# 4. People --------------------------------------------------------------------

TENURES = [
    ("", "Select tenure"),
    ("owner", "Owner-occupier"),
    ("council", "Council tenant"),
    ("housing_association", "Housing association tenant"),
    ("private", "Private renter"),
    ("temporary", "Temporary accommodation"),
    ("supported", "Supported housing"),
    ("no_fixed_abode", "No fixed address"),
    ("not_known", "Not known"),
]


class PersonForm(SectionForm):
    role = _radios(
        "Their part in the case",
        PersonRole.choices,
        messages=_required("Select the person's part in the case"),
    )
    full_name = _text(
        "Full name", required=True, width=20,
        error_messages=_required("Enter the person's full name"),
    )  # fmt: skip
    alias = _text("Other names they use", width=20)
    date_of_birth = DateField(
        noun="Date of birth", required=False, past=True, label="Date of birth",
        help_text="For example, 31 3 1980.",
    )  # fmt: skip
    age = forms.IntegerField(
        label="Age, if you do not know their date of birth",
        required=False,
        min_value=0,
        max_value=120,
        widget=forms.TextInput(
            {"class": "govuk-input govuk-input--width-3", "inputmode": "numeric"}
        ),
        error_messages={
            "invalid": "Age must be a whole number, like 34",
            "min_value": "Age must be 0 or more",
            "max_value": "Age must be 120 or less",
        },
    )
    gender = _text("Gender", width=10)
    address = _long("Address", rows=3, help_text="Leave out the postcode.")
    postcode = PostcodeField(label="Postcode", required=False)
    tenure = forms.ChoiceField(
        label="Tenure",
        choices=TENURES,
        required=False,
        widget=forms.Select({"class": "govuk-select"}),
    )
    landlord = _text("Landlord", width=20)
    phone = PhoneField(label="Safe contact number", required=False)
    contact_times = _text("Safe times to contact them", width=20)
    leave_message = _radios(
        "Is it safe to leave a message?", YES_NO_UNKNOWN, required=False
    )
    language = _text("First language", width=10)
    interpreter = _radios("Do they need an interpreter?", YES_NO, required=False)
    disability = _long(
        "Disability (optional)",
        rows=2,
        help_text="Only what the panel needs to know to keep them safe.",
    )
    ethnicity = _text("Ethnicity (optional)", width=20)
    gp = _text("GP surgery", width=20)
    fears = _long("Who do they fear?", rows=2)
    safe_contacts = _long("Who is safe to speak to about them?", rows=2)

    def clean(self):
        data = super().clean()
        if (
            data.get("full_name")
            and not data.get("date_of_birth")
            and data.get("age") is None
            and "date_of_birth" not in self.errors
            and "age" not in self.errors
        ):
            self.add_error(
                "date_of_birth", "Enter their date of birth, or their age if you "
                "do not know it",
            )  # fmt: skip
        return data


def check_people(people: list[dict]) -> list[str]:
    """Problems with the people as a whole (not any one person)."""
    roles = {person.get("role") for person in people}
    if not roles & {PersonRole.VICTIM, PersonRole.WITNESS, PersonRole.CAUSING_HARM}:
        return [
            "Add the victim, a witness or the person causing harm: the referral "
            "must be about at least one of them"
        ]
    return []


# 5. Household and children ----------------------------------------------------


class HouseholdMemberForm(SectionForm):
    name = _text(
        "Name", required=True, width=20,
        error_messages=_required("Enter the household member's name"),
    )  # fmt: skip
    relationship = _text(
        "Relationship to the people referred", required=True, width=20,
        error_messages=_required("Enter how they are related to the people referred"),
    )  # fmt: skip
    age = forms.IntegerField(
        label="Age (optional)",
        required=False,
        min_value=0,
        max_value=120,
        widget=forms.TextInput(
            {"class": "govuk-input govuk-input--width-3", "inputmode": "numeric"}
        ),
        error_messages={
            "invalid": "Age must be a whole number, like 34",
            "min_value": "Age must be 0 or more",
            "max_value": "Age must be 120 or less",
        },
    )


class ChildForm(SectionForm):
    name = _text(
        "Child's name", required=True, width=20,
        error_messages=_required("Enter the child's name"),
    )  # fmt: skip
    date_of_birth = DateField(
        noun="Child's date of birth", past=True, label="Date of birth",
        help_text="For example, 12 9 2015.",
    )  # fmt: skip
    school = _text("School or nursery", width=20)
    relationship = _text(
        "Relationship to the people referred", required=True, width=20,
        error_messages=_required("Enter the child's relationship to the people "
                                 "referred"),
    )  # fmt: skip


class HouseholdForm(SectionForm):
    """Nothing but the repeatable lists: this form carries no questions."""


# 6. The ASB and the risk ------------------------------------------------------

ASB_TYPES = [
    ("hate", "Hate incident or crime"),
    ("cuckooing", "Cuckooing (someone's home taken over)"),
    ("exploitation", "Exploitation"),
    ("neighbour_dispute", "Neighbour dispute"),
    ("criminal_damage", "Criminal damage"),
    ("noise", "Noise"),
    ("other", "Other"),
]


class RiskForm(SectionForm):
    asb_types = forms.MultipleChoiceField(
        label="What kind of anti-social behaviour is it?",
        help_text="Select all that apply.",
        choices=ASB_TYPES,
        widget=forms.CheckboxSelectMultiple,
        error_messages=_required("Select what kind of anti-social behaviour it is"),
    )
    asb_other = _text("If other, what kind?", width=20)
    escalation = _long(
        "How has it escalated?", required=True,
        error_messages=_required("Enter how the behaviour has escalated"),
    )  # fmt: skip
    impact = _long(
        "What is the impact on the victim?", required=True,
        error_messages=_required("Enter the impact on the victim"),
    )  # fmt: skip
    personal_vulnerabilities = _long(
        "Personal vulnerabilities",
        help_text="For example, age, disability or isolation.",
        rows=3,
    )
    situational_vulnerabilities = _long(
        "Situational vulnerabilities",
        help_text="For example, where they live or who they live with.",
        rows=3,
    )
    incidental_vulnerabilities = _long(
        "Incidental vulnerabilities",
        help_text="For example, a recent bereavement or losing a job.",
        rows=3,
    )
    mental_health = _long("Mental health", rows=3)
    physical_health = _long("Physical health", rows=3)
    substance_use = _long("Substance use", rows=3)
    enforcement = _long(
        "What enforcement has there been so far?",
        help_text="For example, warnings, acceptable behaviour contracts, "
        "injunctions or closure orders.",
        rows=3,
    )
    risk_level = _radios(
        "What is the risk level?",
        RiskLevel.choices,
        messages=_required("Select the risk level"),
    )

    def clean(self):
        data = super().clean()
        if "other" in (data.get("asb_types") or []):
            self.require("asb_other", "Enter what kind of anti-social behaviour it is")
        return data


class IncidentForm(SectionForm):
    date = DateField(
        noun="Date of the incident", required=True, past=True,
        label="Date", help_text="For example, 14 10 2026.",
    )  # fmt: skip
    description = _long(
        "What happened?", required=True, rows=3,
        error_messages=_required("Enter what happened"),
    )  # fmt: skip
    reference = _text("Reference number", width=20)


# 7. What has been done --------------------------------------------------------


class ActionsForm(SectionForm):
    agencies = forms.MultipleChoiceField(
        label="Which agencies are already involved?",
        help_text="Select all that apply.",
        choices=OrganisationType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    actions = _long(
        "What has been done so far, and with what outcome?", required=True,
        rows=5, error_messages=_required("Enter what has been done so far"),
    )  # fmt: skip
    victim_wants = _long(
        "What does the victim want to happen?", required=True,
        error_messages=_required("Enter what the victim wants to happen"),
    )  # fmt: skip


# 8. Consent and lawful basis --------------------------------------------------

CONSENT = [
    ("obtained", "Yes, consent was given"),
    ("unsafe", "No, it was not safe to ask"),
    ("refused", "No, they refused"),
    ("lacks_capacity", "No, they lack capacity to consent"),
]

ARTICLE_6 = [
    ("public_task", "Article 6(1)(e): a task in the public interest or official "
                    "authority"),
    ("legal_obligation", "Article 6(1)(c): a legal obligation"),
    ("vital_interests", "Article 6(1)(d): to protect someone's life"),
    ("consent", "Article 6(1)(a): consent"),
]  # fmt: skip

SPECIAL_CONDITIONS = [
    ("none", "None: no special category or criminal offence data"),
    ("art9_substantial_public_interest", "Article 9(2)(g): substantial public "
     "interest (Data Protection Act 2018, schedule 1, part 2)"),
    ("art9_vital_interests", "Article 9(2)(c): to protect someone's life when they "
     "cannot consent"),
    ("art9_health_social_care", "Article 9(2)(h): health or social care"),
    ("art10_criminal_offence", "Article 10: criminal offence data (Data Protection "
     "Act 2018, schedule 1)"),
]  # fmt: skip


class ConsentForm(SectionForm):
    person_aware = _radios(
        "Does the person know they are being referred?",
        YES_NO,
        messages=_required("Select yes if the person knows about the referral"),
    )
    consent = _radios(
        "Did they consent to their information being shared?",
        CONSENT,
        messages=_required("Select whether they consented"),
    )
    justification = _long(
        "Why is it right to share without consent?",
        help_text="Needed if they did not consent. Say what harm sharing prevents.",
        rows=4,
    )
    article_6 = _radios(
        "UK GDPR Article 6 lawful basis",
        ARTICLE_6,
        messages=_required("Select the Article 6 lawful basis"),
    )
    special_conditions = forms.MultipleChoiceField(
        label="Article 9 or Article 10 conditions",
        help_text="Select all that apply.",
        choices=SPECIAL_CONDITIONS,
        widget=forms.CheckboxSelectMultiple,
        error_messages=_required(
            "Select the Article 9 or 10 conditions, or none if there is no "
            "special category or criminal offence data"
        ),
    )
    section_115 = forms.BooleanField(
        label="This sharing is to prevent or reduce crime and disorder, under "
        "section 115 of the Crime and Disorder Act 1998",
        required=False,
    )
    do_not_disclose = forms.BooleanField(
        label="Do not disclose the victim's and witnesses' contact details to the "
        "person causing harm",
        help_text="Other agencies will not see their addresses, phone numbers or "
        "who is safe to speak to.",
        required=False,
    )
    anonymous_source = forms.BooleanField(
        label="The source of the information wishes to remain anonymous",
        help_text="Other agencies will not see the witnesses' names or details.",
        required=False,
    )

    def clean(self):
        data = super().clean()
        consent = data.get("consent")
        if consent and consent != "obtained":
            self.require(
                "justification", "Enter why it is right to share without consent"
            )
        if data.get("article_6") == "consent" and consent and consent != "obtained":
            self.add_error(
                "article_6",
                "Consent cannot be the lawful basis when the person did not consent",
            )
        conditions = data.get("special_conditions") or []
        if "none" in conditions and len(conditions) > 1:
            self.add_error(
                "special_conditions",
                "Select none on its own, or the conditions that apply",
            )
        return data


# The sections, in order --------------------------------------------------------


@dataclass(frozen=True)
class Repeat:
    """A repeatable list of items on a section page (a formset)."""

    prefix: str
    form_class: type[forms.Form]
    noun: str  # "person", for "Add another person" and "Person 2"
    heading: str
    min_num: int = 0
    max_num: int = 20
    # Problems with the list as a whole; the formset from answers.bind() runs it.
    check: Callable[[list[dict]], list[str]] | None = None


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    form_class: type[forms.Form]
    repeats: tuple[Repeat, ...] = field(default_factory=tuple)
    hint: str = ""
    attachments: bool = False


SECTIONS = (
    Section("eligibility", "Eligibility", EligibilityForm,
            hint="Check the case is one for the CMARAC."),
    Section("referrer", "About you", ReferrerForm,
            hint="Who is referring, and who will present the case."),
    Section("referral-type", "Type of referral", ReferralTypeForm),
    Section(
        "people", "People", forms.Form,
        repeats=(Repeat("people", PersonForm, "person", "People in the case",
                        min_num=1, check=check_people),),
        hint="Victims, witnesses, people causing harm and others at risk.",
    ),
    Section(
        "household", "Household and children", HouseholdForm,
        repeats=(
            Repeat("members", HouseholdMemberForm, "household member",
                   "Other household members"),
            Repeat("children", ChildForm, "child", "Children"),
        ),
    ),
    Section(
        "risk", "The anti-social behaviour and the risk", RiskForm,
        repeats=(Repeat("incidents", IncidentForm, "incident", "Incidents",
                        min_num=1),),
        attachments=True,
    ),
    Section("actions", "What has been done", ActionsForm),
    Section("consent", "Consent and lawful basis", ConsentForm),
)  # fmt: skip

SECTIONS_BY_SLUG = {section.slug: section for section in SECTIONS}


class AttachmentForm(RefusesNullCharacters, forms.Form):
    # The file's rules (type, size, content) are files.checks', applied by
    # the service; an empty file is left to them too, for one message.
    risk_assessment = forms.FileField(
        label="Attach a risk assessment (optional)",
        help_text=(
            f"A {ACCEPTED_LABEL}, smaller than "
            f"{max_upload_bytes() // (1024 * 1024)} MB."
        ),
        required=False,
        allow_empty_file=True,
        widget=forms.ClearableFileInput({"class": "govuk-file-upload"}),
    )
    # Asked for every file: a risk assessment often names the people a "do not
    # disclose" or "anonymous source" referral protects (referrals.redaction).
    # Named like the file input, so it is never kept among the risk answers
    # (answers.raw_from_post).
    risk_assessment_visibility = forms.ChoiceField(
        label="Who can see the file?",
        help_text="Choose the referring agency and coordinators only if the file "
        "names or could identify a victim, witness or the source.",
        choices=AttachmentVisibility.choices,
        widget=forms.RadioSelect,
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("risk_assessment") and not data.get("risk_assessment_visibility"):
            self.add_error("risk_assessment_visibility", "Select who can see the file")
        return data


class DeclarationForm(RefusesNullCharacters, forms.Form):
    confirm = forms.BooleanField(
        label="I confirm the information is accurate to the best of my knowledge "
        "and that sharing it is necessary and proportionate",
        error_messages=_required(
            "Confirm the information is accurate and sharing it is necessary"
        ),
    )


# Who can see a case (coordinators) ---------------------------------------------

_WHY = forms.Textarea({"class": "govuk-textarea", "rows": 3})


def _why(label, required_message, help_text=""):
    return TextAreaField(
        label=label,
        help_text=help_text,
        max_length=2000,
        widget=_WHY,
        error_messages={
            "required": required_message,
            "max_length": "The reason must be 2,000 characters or fewer",
        },
    )


class ShareReasonField(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Why does the organisation need to see the case?")
        super().__init__(
            choices=ShareReason.choices,
            widget=forms.RadioSelect,
            error_messages=_required(
                "Select why the organisation needs to see the case"
            ),
            **kwargs,
        )


class ShareGrantForm(RefusesNullCharacters, forms.Form):
    organisation = forms.ModelChoiceField(
        label="Organisation",
        queryset=None,
        empty_label="Choose an organisation",
        widget=forms.Select({"class": "govuk-select"}),
        error_messages={
            "required": "Select the organisation to share the case with",
            "invalid_choice": "Select an organisation from the list",
        },
    )
    reason = ShareReasonField()
    ends_on = DateField(
        noun="End date",
        future=True,
        required=False,
        label="Until when? (optional)",
        help_text="For example, 27 3 2027. Leave it empty for the standard period.",
    )

    def __init__(self, *args, organisations, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class ShareChangeForm(RefusesNullCharacters, forms.Form):
    change = forms.ChoiceField(
        label="What do you want to do?",
        choices=[("extend", "Change the end date"), ("end", "End access now")],
        widget=forms.RadioSelect,
        error_messages=_required("Select whether to change the end date or end access"),
    )
    ends_on = DateField(
        noun="New end date",
        future=True,
        required=False,
        label="New end date",
        help_text="Needed to change the end date. For example, 27 3 2027.",
    )
    why = _why("Why?", "Enter why access changes", "The audit log keeps this.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        extending = data.get("change") == "extend"
        if extending and not data.get("ends_on") and "ends_on" not in self.errors:
            self.add_error("ends_on", "Enter the new end date")
        return data


class SharingWithoutConsentForm(RefusesNullCharacters, forms.Form):
    why = _why(
        "Why is sharing without consent justified?",
        "Enter why sharing without consent is justified",
        "Say what harm sharing prevents, and why it outweighs the person's "
        "wishes. The audit log keeps this.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


# Restriction and correction (coordinators) -------------------------------------


class RestrictForm(RefusesNullCharacters, forms.Form):
    reason = _why(
        "Why is processing restricted?",
        "Enter why processing is restricted",
        "For example, the person disputes that the referral is accurate and it "
        "is being checked. Only coordinators see this.",
    )
    until = DateField(
        noun="End date",
        future=True,
        required=False,
        label="Until when? (optional)",
        help_text="The last day of the restriction, for example 27 3 2027. Leave "
        "it empty to keep it until a coordinator lifts it.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class RestrictionLiftForm(RefusesNullCharacters, forms.Form):
    reason = _why(
        "Why is the restriction lifted?",
        "Enter why the restriction is lifted",
        "For example, the accuracy check is finished. Only coordinators see this.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class AnswerChoiceForm(RefusesNullCharacters, forms.Form):
    """Which answer to correct: one of the referral's (``referrals.corrections``)."""

    answer = forms.ChoiceField(
        label="Which answer needs correcting?",
        widget=forms.Select({"class": "govuk-select"}),
        error_messages={
            "required": "Select the answer that needs correcting",
            "invalid_choice": "Select an answer from the list",
        },
    )

    def __init__(self, *args, choices, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["answer"].choices = [("", "Choose an answer"), *choices]


class AmendmentForm(RefusesNullCharacters, forms.Form):
    """The corrected answer, asked with the question's own field, and why."""

    why = _why(
        "Why is it corrected?",
        "Enter why the answer is corrected",
        "For example, who told you it was wrong. Agencies that received the "
        "case do not see this.",
    )

    field_order = ["value", "why"]

    def __init__(self, *args, question: forms.Field, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        question = copy.deepcopy(question)
        question.label = f"Corrected answer: {question.label}"
        self.fields["value"] = question
        self.order_fields(self.field_order)

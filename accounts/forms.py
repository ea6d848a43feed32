"""Sign-in and second-factor forms, in plain language."""

import uuid

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template import loader

from jobs.mail import email_queue
from portal.forms import RefusesNullCharacters, TextAreaField

CODE_ATTRS = {
    # WCAG 2.2 3.3.8: let browsers and password managers fill and paste codes.
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "spellcheck": "false",
    "autocapitalize": "none",
    "class": "govuk-input govuk-input--width-10",
}


class SignInForm(RefusesNullCharacters, AuthenticationForm):
    error_messages = {
        "invalid_login": (
            "Enter a correct username and password. Both are case-sensitive."
        ),
        "inactive": "This account has been closed. Ask your administrator.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {
                "class": "govuk-input govuk-!-width-one-half",
                "autocomplete": "username",
                "spellcheck": "false",
                "autocapitalize": "none",
            }
        )
        self.fields["username"].error_messages["required"] = "Enter your username"
        self.fields["password"].widget.attrs.update(
            {
                "class": "govuk-input govuk-!-width-one-half",
                "autocomplete": "current-password",
            }
        )
        self.fields["password"].error_messages["required"] = "Enter your password"

    def get_invalid_login_error(self):
        # A suspended person who knows their password is told why they cannot
        # sign in; anyone else gets the usual answer, which says nothing about
        # whether the account exists.
        from django.contrib.auth.hashers import check_password

        from .models import User
        from .services import suspension_explained

        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password") or ""
        person = User.objects.filter(username=username).first() if username else None
        if (
            person is not None
            and person.is_suspended
            and check_password(password, person.password)
        ):
            return forms.ValidationError(
                f"Your account has been suspended. "
                f"{suspension_explained(person.suspension_reason)} Ask your "
                "organisation's single point of contact or the CMARAC "
                "coordinator if you still need access.",
                code="suspended",
            )
        return super().get_invalid_login_error()


class CodeForm(RefusesNullCharacters, forms.Form):
    code = forms.CharField(
        label="Security code",
        help_text=(
            "The 6-digit code from your authenticator app, or one of your backup codes."
        ),
        max_length=20,
        error_messages={"required": "Enter the security code"},
        widget=forms.TextInput(attrs={**CODE_ATTRS, "inputmode": "text"}),
    )

    def clean_code(self):
        # People paste codes with spaces; keep letters, digits and hyphens.
        code = "".join(self.cleaned_data["code"].split())
        if not code:
            raise forms.ValidationError("Enter the security code")
        return code


class EnrolForm(RefusesNullCharacters, forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        help_text="Enter the 6-digit code your app shows now.",
        max_length=10,
        error_messages={"required": "Enter the 6-digit code from your app"},
        widget=forms.TextInput(attrs=CODE_ATTRS),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("The code must be 6 digits, like 123456")
        return code


class PersonChoiceField(forms.ModelChoiceField):
    """Choose a person, shown with their organisation (User.name_with_organisation).

    Wagtail's admin forms use it for every link to a user (see AccountsConfig).
    """

    def _set_queryset(self, queryset):
        # Also when a form narrows the choices later: one query, not one a person.
        if queryset is not None:
            queryset = queryset.select_related("organisation")
        super()._set_queryset(queryset)

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def label_from_instance(self, obj):
        return obj.name_with_organisation


class QueuedPasswordResetForm(RefusesNullCharacters, PasswordResetForm):
    """Django's reset form, its email put in the outbox instead of sent.

    The request only writes a row; the worker delivers it with retries, so a
    hung or refusing mail server neither holds nor fails the page. The link in
    the body is a secret: the outbox empties the body once the email is sent
    or given up, and nothing logs it.
    """

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = loader.render_to_string(subject_template_name, context)
        body = loader.render_to_string(email_template_name, context)
        # Each request is its own email; the event names no token.
        event = f"password-reset-{context['user'].pk}-{uuid.uuid4().hex}"
        email_queue(
            event=event,
            to=to_email,
            subject="".join(subject.splitlines()),
            body=body,
        )


TEXT_INPUT = "govuk-input govuk-!-width-two-thirds"


class AccountRequestForm(RefusesNullCharacters, forms.Form):
    """What a single point of contact gives to ask for an account."""

    first_name = forms.CharField(
        max_length=150,
        error_messages={"required": "Enter their first name"},
        widget=forms.TextInput(attrs={"class": TEXT_INPUT, "autocomplete": "off"}),
    )
    last_name = forms.CharField(
        max_length=150,
        error_messages={"required": "Enter their last name"},
        widget=forms.TextInput(attrs={"class": TEXT_INPUT, "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label="Work email address",
        error_messages={
            "required": "Enter their work email address",
            "invalid": "Enter an email address like name@example.org",
        },
        widget=forms.EmailInput(
            attrs={"class": TEXT_INPUT, "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    job_title = forms.CharField(
        max_length=200,
        required=False,
        label="Job title (optional)",
        widget=forms.TextInput(attrs={"class": TEXT_INPUT}),
    )
    role = forms.ChoiceField(
        label="Role they need",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the role they need"},
    )
    reason = TextAreaField(
        label="Why they need access",
        help_text="For example, the cases or meetings they will work on.",
        max_length=2000,
        error_messages={"required": "Say why they need access"},
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 4}),
    )

    def __init__(self, *args, **kwargs):
        from .models import REQUESTABLE_ROLES

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [
            (role.value, ROLE_HINTS[role.value][0]) for role in REQUESTABLE_ROLES
        ]


# A role's label as a person would ask for it.
ROLE_HINTS = {
    "Referrers": ("Caseworker (refers cases, attends meetings)",),
    "Signatories": ("Signatory (acknowledges the agreement)",),
}


class SuspendForm(RefusesNullCharacters, forms.Form):
    reason = TextAreaField(
        label="Why are you suspending this account?",
        help_text=(
            "For example, they have left your organisation. Administrators see "
            "this; the person is told only that you suspended their account."
        ),
        max_length=2000,
        error_messages={"required": "Say why you are suspending this account"},
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
    )
    confirm = forms.BooleanField(
        label="I understand they will not be able to sign in",
        error_messages={"required": "Confirm that they will not be able to sign in"},
    )


class RecertificationForm(RefusesNullCharacters, forms.Form):
    """One keep-or-remove question and one set of role boxes per person.

    A person left unanswered stays pending; a person kept must keep a role."""

    KEEP, REMOVE = "keep", "remove"

    def __init__(self, *args, entries, **kwargs):
        super().__init__(*args, **kwargs)
        self.entries = list(entries)
        self.rows = []
        for entry in self.entries:
            person = entry.user
            decision = forms.ChoiceField(
                label=f"Does {person} still need access?",
                choices=[
                    (self.KEEP, "Yes, keep their access"),
                    (self.REMOVE, "No, remove their access"),
                ],
                widget=forms.RadioSelect,
                required=False,
            )
            held = sorted(person.role_names)
            roles = forms.MultipleChoiceField(
                label=f"Roles {person} keeps",
                help_text="Untick a role they no longer need.",
                choices=[(name, _role_label(name)) for name in held],
                widget=forms.CheckboxSelectMultiple,
                required=False,
                initial=held,
            )
            self.fields[f"decision_{person.pk}"] = decision
            self.fields[f"roles_{person.pk}"] = roles
            self.rows.append(
                (entry, self[f"decision_{person.pk}"], self[f"roles_{person.pk}"])
            )

    def clean(self):
        cleaned = super().clean()
        answered = 0
        for entry in self.entries:
            pk = entry.user_id
            decision = cleaned.get(f"decision_{pk}")
            if not decision:
                continue
            answered += 1
            if (
                decision == self.KEEP
                and entry.user.role_names
                and not cleaned.get(f"roles_{pk}")
            ):
                self.add_error(
                    f"roles_{pk}",
                    f"Keep at least one role for {entry.user}, or remove their access",
                )
        if not answered and not self.errors:
            raise forms.ValidationError("Choose keep or remove for at least one person")
        return cleaned

    def answers(self) -> dict:
        from .services import Answer

        result = {}
        for entry in self.entries:
            pk = entry.user_id
            decision = self.cleaned_data.get(f"decision_{pk}")
            if decision:
                result[pk] = Answer(
                    keep=decision == self.KEEP,
                    roles_kept=list(self.cleaned_data.get(f"roles_{pk}") or []),
                )
        return result


def _role_label(name: str) -> str:
    from .models import Role

    try:
        return Role(name).label
    except ValueError:
        return name


class AccountRequestDecisionForm(RefusesNullCharacters, forms.Form):
    """An administrator's decision on an account request."""

    decision = forms.ChoiceField(
        choices=[
            ("approve", "Approve: make the account and invite them"),
            ("reject", "Reject"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose approve or reject"},
    )
    username = forms.CharField(max_length=150, required=False)
    note = TextAreaField(
        label="Reason for rejecting (shown to the single point of contact)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "approve" and not cleaned.get("username"):
            self.add_error("username", "Enter a username for the new account")
        if cleaned.get("decision") == "reject" and not cleaned.get("note"):
            self.add_error("note", "Say why the request is rejected")
        return cleaned

"""Sign-in and second-factor forms, in plain language."""

import uuid

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template import loader

from jobs.mail import email_queue
from portal.forms import RefusesNullCharacters

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

"""The password-reset email goes through the outbox: the request only queues
it, the worker's delivery sends it, and the secret link leaves no copy."""

import logging
import time
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from jobs.mail import EmailUndelivered, email_deliver
from jobs.models import EmailStatus, OutgoingEmail
from tests.jobs.smtp import TinySMTPServer, free_port

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def queue(settings):
    """Tasks wait in the database for the worker instead of running here."""
    settings.TASKS = DATABASE_QUEUE


def smtp_on(settings, port):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 1


def request_reset(client, user, django_capture_on_commit_callbacks):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:password_reset"), {"email": user.email}
        )
    return response, time.monotonic() - started


def reset_link(body):
    return next(line for line in body.splitlines() if "/password-reset/" in line)


@pytest.mark.django_db
def test_a_hung_mail_server_does_not_hold_the_request_and_the_link_works(
    client, user, settings, mailoutbox, queue, django_capture_on_commit_callbacks
):
    server = TinySMTPServer(free_port(), hang=True)
    try:
        smtp_on(settings, server.port)
        response, took = request_reset(client, user, django_capture_on_commit_callbacks)
        assert response["Location"] == reverse("accounts:password_reset_done")
        assert took < 1  # the request never spoke to the mail server

        email = OutgoingEmail.objects.get(to=user.email)
        assert email.status == EmailStatus.PENDING
        assert email.event.startswith(f"password-reset-{user.pk}-")
        # The worker's first attempt times out and is put back for a retry.
        assert email_deliver(email.pk) == "retrying"
    finally:
        server.stop()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutgoingEmail.objects.filter(pk=email.pk).update(next_attempt_at=email.created_at)
    assert email_deliver(email.pk) == "sent"
    assert len(mailoutbox) == 1
    link = reset_link(mailoutbox[0].body)
    email.refresh_from_db()
    assert email.body == ""  # the secret is not kept once sent

    form_url = client.get(urlsplit(link).path)["Location"]
    new_password = "reset-passphrase-for-2026"
    response = client.post(
        form_url, {"new_password1": new_password, "new_password2": new_password}
    )
    assert response["Location"] == reverse("accounts:verify")
    user.refresh_from_db()
    assert user.check_password(new_password)


@pytest.mark.django_db
def test_a_reset_email_given_up_keeps_no_link_and_logs_none(
    client, user, settings, queue, caplog, django_capture_on_commit_callbacks
):
    smtp_on(settings, free_port())  # nothing listens: refused
    settings.EMAIL_RETRY_DELAYS = []
    caplog.set_level(logging.DEBUG)
    response, _ = request_reset(client, user, django_capture_on_commit_callbacks)
    assert response["Location"] == reverse("accounts:password_reset_done")
    email = OutgoingEmail.objects.get(to=user.email)
    token_path = reset_link(email.body).split("/password-reset/")[1]

    with pytest.raises(EmailUndelivered):
        email_deliver(email.pk)
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED
    assert email.body == ""
    assert token_path not in caplog.text

"""Emails queued together (``jobs.mail.emails_queue``): one queue task for
the batch, each email sent once over one connection, and a refused one
retried on its own while the rest go."""

from smtplib import SMTPRecipientsRefused

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from jobs.mail import EmailUndelivered, QueuedEmail, emails_deliver, emails_queue
from jobs.models import EmailStatus, OutgoingEmail

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class RefusingBackend(EmailBackend):
    """The test outbox, refusing any address at refused.example.org, and
    counting the connections made."""

    made = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        RefusingBackend.made += 1

    def send_messages(self, messages):
        for message in messages:
            if any(to.endswith("@refused.example.org") for to in message.to):
                raise SMTPRecipientsRefused({message.to[0]: (550, b"No such user")})
        return super().send_messages(messages)


@pytest.fixture
def refusing(settings):
    settings.EMAIL_BACKEND = "tests.jobs.test_mail_batches.RefusingBackend"
    RefusingBackend.made = 0


def batch(*addresses, event="meeting-1-papers"):
    return [
        QueuedEmail(event=event, to=to, subject="Papers issued", body="Sign in")
        for to in addresses
    ]


def test_a_batch_is_one_queue_task_and_each_address_is_queued_once(
    settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_QUEUE
    people = [f"person{n}@example.org" for n in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        assert emails_queue(batch(*people, people[0])) == 5
    assert OutgoingEmail.objects.count() == 5
    [task] = DBTaskResult.objects.all()
    assert task.task_path == "jobs.tasks.deliver_emails"
    # The same event again, with one newcomer: only the newcomer is queued.
    with django_capture_on_commit_callbacks(execute=True):
        assert emails_queue(batch(*people, "new@example.org")) == 1
    assert OutgoingEmail.objects.count() == 6
    assert (
        DBTaskResult.objects.filter(task_path="jobs.tasks.deliver_email").count() == 1
    )


def test_queueing_takes_the_same_queries_for_3_or_30_people():
    def queries_for(count: int, event: str) -> int:
        people = [f"p{n}@example.org" for n in range(count)]
        with CaptureQueriesContext(connection) as queries:
            emails_queue(batch(*people, event=event))
        return len(queries)

    assert queries_for(30, "big") == queries_for(3, "small")


def test_a_refused_address_is_retried_alone_and_the_rest_are_sent(
    refusing, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        emails_queue(batch("a@example.org", "b@refused.example.org", "c@example.org"))
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.org", "c@example.org"]
    refused = OutgoingEmail.objects.get(to="b@refused.example.org")
    assert refused.status == EmailStatus.PENDING
    assert refused.attempts == 1
    assert "No such user" in refused.last_error
    assert set(
        OutgoingEmail.objects.exclude(pk=refused.pk).values_list("status", flat=True)
    ) == {EmailStatus.SENT}
    # One connection for the batch, not one an email.
    assert RefusingBackend.made == 1


def test_an_email_given_up_fails_the_batch_after_the_others_are_sent(
    refusing, settings
):
    emails_queue(batch("a@example.org", "b@refused.example.org"))
    ids = list(OutgoingEmail.objects.order_by("to").values_list("pk", flat=True))
    OutgoingEmail.objects.filter(to="b@refused.example.org").update(
        attempts=len(settings.EMAIL_RETRY_DELAYS)
    )
    with pytest.raises(EmailUndelivered, match="b@refused.example.org|meeting-1"):
        emails_deliver(ids)
    assert [m.to for m in mail.outbox] == [["a@example.org"]]
    assert OutgoingEmail.objects.get(to="b@refused.example.org").status == (
        EmailStatus.FAILED
    )
    # A second run of the batch sends nothing twice.
    assert emails_deliver(ids[:1]) == {"skipped": 1}
    assert len(mail.outbox) == 1

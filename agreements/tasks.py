"""Background tasks for agreements (django-tasks).

django-tasks runs tasks but does not schedule them, so something outside the
portal starts the daily run. Either call the management command from cron::

    15 7 * * *  cd /srv/portal && .venv/bin/python manage.py send_agreement_reminders

or, with a task worker, enqueue this task once a day from cron or a systemd
timer::

    .venv/bin/python manage.py shell -c \\
        "from agreements.tasks import send_agreement_reminders_task as t; t.enqueue()"
"""

from django_tasks import task

from .services import reminders_send


@task()
def send_agreement_reminders_task() -> int:
    """Email today's agreement review reminders; returns how many went out.

    Schedule it once a day (see the module docstring). Each reminder is
    recorded as it is sent, so a second run the same day, an overlapping run
    or a retry sends nothing twice, and a missed day is caught up by the next.
    """
    return reminders_send()

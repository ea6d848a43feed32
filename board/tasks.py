"""The board report, built in the background (django-tasks): a PDF takes
seconds, so a request only asks for it."""

from datetime import date

from django_tasks import task


@task()
def build_board_report(first: str, last: str, actor_id: int | None = None) -> int:
    """Build the PDF and CSV for the months ``first`` to ``last`` (ISO dates
    of their first days). Returns the number of files built."""
    from accounts.models import User

    from .periods import Period
    from .reports import report_build

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    period = Period(date.fromisoformat(first), date.fromisoformat(last))
    return len(report_build(period=period, actor=actor))

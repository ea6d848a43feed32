"""The one schedule of the portal's regular jobs, as data.

The task worker (``manage.py run_worker``) looks at it every minute and
enqueues each job whose time has come, once per slot: the ScheduledRun row's
unique constraint decides, so several workers, or a worker restarted, never
run a slot twice. A job missed while no worker ran is run once when one
starts; every job here is safe to run again and catches up by itself.

docs/operations.md shows this table (``manage.py run_schedule --table``
prints it); tests/jobs/test_schedule.py fails when the two differ.
"""

import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import ScheduledRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    command: str  # a management command, also run by hand the same way
    what: str
    daily_at: time | None = None  # local time (TIME_ZONE)
    every: timedelta | None = None
    args: tuple[str, ...] = ()

    @property
    def when(self) -> str:
        if self.daily_at is not None:
            return f"daily at {self.daily_at:%H:%M}"
        minutes = int(self.every.total_seconds() // 60)
        if minutes == 1:
            return "every minute"
        return "every hour" if minutes == 60 else f"every {minutes} minutes"

    def latest_slot(self, now: datetime) -> datetime:
        """The most recent time, at or before ``now``, this job was due."""
        if self.every is not None:
            step = int(self.every.total_seconds())
            return datetime.fromtimestamp(int(now.timestamp()) // step * step, tz=UTC)
        today = timezone.localtime(now).date()
        slot = timezone.make_aware(datetime.combine(today, self.daily_at))
        if slot > now:
            yesterday = today - timedelta(days=1)
            slot = timezone.make_aware(datetime.combine(yesterday, self.daily_at))
        return slot


SCHEDULE: tuple[Job, ...] = (
    Job(
        "send_queued_emails",
        "enqueues emails whose delivery task was lost and puts back those a "
        "stopped worker was sending; deletes sent and failed emails after 90 days",
        every=timedelta(minutes=5),
    ),
    Job(
        "requeue_stuck_tasks",
        "marks tasks running longer than `DJANGO_TASKS_STUCK_AFTER_SECONDS` "
        "(3600) failed, saying their worker stopped, and enqueues each again "
        "once (all tasks are safe to rerun)",
        every=timedelta(minutes=5),
    ),
    Job(
        "refresh_board_figures",
        "works out the board's figures and charts for the last 12 months and "
        "each preset period and stores them, so `/board/` shows them at once, "
        "as at the time of the run; the page works them out itself when they "
        "are missing or more than 10 minutes old",
        every=timedelta(minutes=5),
    ),
    Job(
        "send_incident_reminders",
        "emails coordinators and the DPO when an incident has "
        "`DJANGO_INCIDENT_REMINDER_HOURS_LEFT` (24) hours left of the 72 to "
        "decide on telling the ICO, and once they have passed; each once",
        every=timedelta(minutes=15),
    ),
    Job(
        "raise_activity_alerts",
        "raises alerts to coordinators and the DPO, with the audit events as "
        "evidence, for many refusals, bulk downloads, downloads outside "
        "working hours and many meeting packs by one person "
        "(`DJANGO_ALERT_*` thresholds); each event is evidence once",
        every=timedelta(minutes=15),
    ),
    Job(
        "purge_shared_files",
        "deletes the stored files of expired and recalled shares (their rows "
        "and download history stay until `apply_retention` destroys them)",
        every=timedelta(hours=1),
    ),
    Job(
        "sweep_storage",
        "deletes stored files no row refers to (shared files, referral "
        "attachments, meeting packs, published documents) once older than "
        "`DJANGO_STORAGE_SWEEP_GRACE_HOURS` (24), and resolves uploads a crash "
        "left pending; one audit event per run with counts per kind",
        daily_at=time(2, 30),
    ),
    Job(
        "end_expired_referral_shares",
        "ends each share of a case with another organisation past its end date "
        "(`DJANGO_REFERRAL_SHARE_DAYS`, 90, unless a coordinator set another), "
        "and shares left on closed cases whose organisation has no open "
        "actions, audited; access already stops at the end date, this records it",
        daily_at=time(0, 10),
    ),
    Job(
        "end_expired_restrictions",
        "records the end of each restriction of processing past its end date "
        "in the case's history and the audit log, and rebuilds the meeting "
        "packs that left the case out; the checks already stop at the end date",
        daily_at=time(0, 15),
    ),
    Job(
        "audit_chain",
        "links audit events still waiting to be chained into the chain; "
        "writers and the worker's audit sequencer (every second) chain them, "
        "so this only catches those left by a chainer that stopped or rolled "
        "back ([audit.md](audit.md))",
        every=timedelta(minutes=1),
    ),
    Job(
        "audit_checkpoint",
        "signs the audit chain's head (count, last event, hash) into the "
        "checkpoint file and, with S3, a new object in the private bucket; run "
        "it by hand right after deploying too",
        daily_at=time(1, 0),
    ),
    Job(
        "audit_seal",
        "moves audit events older than the audit period of the ISA version in "
        "force (or, when none gives one, `DJANGO_AUDIT_RETENTION_YEARS`, 6) out "
        "of the table into signed segment files in private storage; the chain "
        "still verifies across them ([audit.md](audit.md)); a day with nothing "
        "that old seals nothing",
        daily_at=time(1, 15),
    ),
    Job(
        "verify_audit",
        "checks the audit log's chain against every checkpoint; fails, naming "
        "the first affected event, if it was altered ([audit.md](audit.md))",
        daily_at=time(1, 30),
    ),
    Job(
        "build_board_report",
        "builds the board report (PDF and CSV, small counts hidden) for the "
        "last whole quarter on the first run after it ends, stored privately "
        "for board members and coordinators; a report already built is kept",
        daily_at=time(3, 0),
    ),
    Job(
        "delete_stale_referral_drafts",
        "deletes referral drafts untouched for "
        "`DJANGO_REFERRAL_DRAFT_RETENTION_DAYS` (90)",
        daily_at=time(2, 0),
    ),
    Job(
        "apply_retention",
        "destroys closed cases past the case-material period of the ISA "
        "version in force (answers, people, attachments, agenda items, "
        "actions, packs, shared files), except those on legal hold, leaving a "
        "tombstone each; then shared-file records past their period, and "
        "meetings' minutes, attendance and packs past theirs "
        "([retention.md](retention.md)); /health/ says `overdue` after 48 "
        "hours without a run",
        daily_at=time(2, 15),
    ),
    Job(
        "rebuild_person_index",
        "rebuilds the data protection officer's person index from every "
        "referral, agenda item, action, meeting, share and shared file, "
        "catching writes that skip the index's signals; audited with counts",
        daily_at=time(2, 45),
    ),
    Job(
        "prune_db_task_results",
        "deletes the records of background tasks finished 30 days ago, and of "
        "failed ones after 90 days",
        daily_at=time(3, 0),
        args=("--min-age-days", "30", "--failed-min-age-days", "90"),
    ),
    Job(
        "clearsessions",
        "deletes expired sign-in sessions (Django's own command); without it "
        "the session table keeps every session ever started",
        daily_at=time(3, 10),
    ),
    Job(
        "axes_reset_logs",
        "deletes django-axes' records of sign-ins (username, address, browser) "
        "older than 90 days; the audit log keeps its own events",
        daily_at=time(3, 20),
        args=("--age", "90"),
    ),
    Job(
        "dispose_rights_requests",
        "deletes subject access requests closed, and objection and erasure "
        "requests decided, more than `DJANGO_RIGHTS_REQUEST_RETENTION_MONTHS` "
        "(24) ago, with their disclosure bundles; audited with the count",
        daily_at=time(2, 50),
    ),
    Job(
        "delete_old_notices",
        'deletes "What\'s new" notices older than '
        "`DJANGO_NOTICE_RETENTION_DAYS` (180), read or not; audited with the "
        "count",
        daily_at=time(3, 30),
    ),
    Job(
        "send_agreement_reminders",
        "emails responsible officers and outstanding signatories 90, 60, 30, 7 "
        "and 1 days before an agreement review, each once",
        daily_at=time(7, 15),
    ),
    Job(
        "recertify_accounts",
        "opens each organisation's access review every "
        "`DJANGO_RECERTIFICATION_INTERVAL_DAYS` (91), reminds its single point "
        "of contact 7, 3 and 1 days before the deadline "
        "(`DJANGO_RECERTIFICATION_WINDOW_DAYS`, 14), suspends people not "
        "confirmed by then and partner accounts unused for "
        "`DJANGO_DORMANT_ACCOUNT_DAYS` (90), telling each why; audited, each "
        "email once",
        daily_at=time(6, 30),
    ),
    Job(
        "send_sar_reminders",
        "emails the data protection officers 7 days and 1 day before a "
        "subject access request is due and once it is overdue (reference and "
        "link only); each once per due date, so an extension starts them again",
        daily_at=time(7, 25),
    ),
    Job(
        "send_guidance_review_reminders",
        "emails each guidance page's owner once its review date has passed",
        daily_at=time(7, 20),
    ),
)

JOBS = {job.command: job for job in SCHEDULE}


def schedule_tick(*, now: datetime | None = None) -> list[str]:
    """Enqueue every job whose latest slot has not been run; returns their names."""
    from .tasks import run_scheduled_job

    now = now or timezone.now()
    enqueued = []
    for job in SCHEDULE:
        slot = job.latest_slot(now)
        try:
            # The claim and the task commit together: no slot claimed and lost.
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=job.command, slot=slot)
                result = run_scheduled_job.enqueue(job.command)
                run.task_id = str(result.id)
                run.save(update_fields=["task_id"])
        except IntegrityError:
            continue  # an earlier tick, or another worker, has this slot
        enqueued.append(job.command)
    if enqueued:
        logger.info("Scheduled jobs enqueued: %s", ", ".join(enqueued))
    return enqueued


def job_run(name: str) -> str:
    """Run one scheduled job's command; a failure fails its task."""
    job = JOBS[name]
    output = io.StringIO()
    call_command(job.command, *job.args, stdout=output, stderr=output)
    return output.getvalue()[-2000:]


def schedule_table() -> str:
    """The schedule as the Markdown table docs/operations.md shows."""
    rows = ["| command | when | what it does |", "|---|---|---|"]
    rows += [f"| `{job.command}` | {job.when} | {job.what} |" for job in SCHEDULE]
    return "\n".join(rows) + "\n"

"""Check a restored copy: rows, migrations, the audit chain, stored files."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.template.defaultfilters import pluralize

from audit.models import Outcome
from audit.services import audit_chain_verify, audit_record
from files.models import PendingObject
from files.stored import objects_missing

from ...audit_actions import DocumentAction


class Command(BaseCommand):
    help = (
        "Check a restored database and file store: row counts per table, "
        "unapplied migrations, the audit chain (as verify_audit), and that "
        "every file a row refers to is in storage and matches its recorded "
        "hash. Exits non-zero with a plain report if anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--skip-hashes",
            action="store_true",
            help="Only check that each file exists; do not read it to compare "
            "its hash (much faster on a large store).",
        )

    def handle(self, *args, **options):
        problems: list[str] = []
        self.stdout.write("Rows per table:")
        for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
            if model._meta.proxy or not model._meta.managed:
                continue
            rows = model._default_manager.count()
            self.stdout.write(f"  {model._meta.db_table}: {rows}")

        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            problems.append(
                f"{len(plan)} migration{pluralize(len(plan))} not applied: run "
                "manage.py migrate, then check again."
            )

        chain = audit_chain_verify()
        if chain.intact:
            self.stdout.write(
                f"Audit chain intact ({chain.events} event{pluralize(chain.events)})."
            )
        else:
            problems.extend(f"Audit log: {problem}" for problem in chain.problems)

        missing = list(objects_missing(check_hashes=not options["skip_hashes"]))
        for item in missing[:50]:
            problems.append(
                f"Stored file {item.reason}: {item.kind} {item.pk} ({item.name})."
            )
        if len(missing) > 50:
            problems.append(f"... and {len(missing) - 50} more stored files.")
        if not missing:
            self.stdout.write("Every stored file a row refers to is present.")

        pending = PendingObject.objects.count()
        if pending:
            self.stdout.write(
                f"{pending} upload{pluralize(pending)} were in progress when the "
                "dump was taken; manage.py sweep_storage removes their files."
            )

        audit_record(
            action=DocumentAction.RESTORE_VERIFIED,
            outcome=Outcome.FAILURE if problems else Outcome.SUCCESS,
            detail={
                "problems": len(problems),
                "missing_files": len(missing),
                "audit_intact": chain.intact,
                "hashes_checked": not options["skip_hashes"],
            },
        )
        if problems:
            raise CommandError(
                "The restored copy has problems:\n"
                + "\n".join(f"- {p}" for p in problems)
            )
        self.stdout.write(self.style.SUCCESS("The restored copy checks out."))

"""Load a partnership ten times the demo's size, for benchmarks.

Bulk inserts (see bench.scale): 60 organisations, 2,000 users, 20,000
referrals, 500 meetings, 50,000 shared files, 200 guidance pages and 500,000
audit events at ``--scale 1``, in minutes. Refused where the settings do not
allow demo data, unless told this database is not production, and refused if
scale data is loaded already.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bench.scale import BENCH_PASSWORD, ScaleDataExists, load_scale_data


class Command(BaseCommand):
    help = "Load a partnership ten times the demo's size, for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Fraction of the full size to load (default 1.0: 20,000 "
            "referrals, 500,000 audit events). Tests use 0.005.",
        )
        parser.add_argument(
            "--password",
            default="",
            help="The password every scale user gets (default: DJANGO_DEMO_PASSWORD, "
            f"or {BENCH_PASSWORD!r}).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="Seed for the random choices, so a load can be repeated exactly.",
        )
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help="Load even though these settings do not allow demo data (a "
            "benchmark run with production settings, on a throwaway database).",
        )

    def handle(self, *args, **options):
        if not settings.DEMO_DATA_ALLOWED and not options["not_production"]:
            raise CommandError(
                "Refusing to load scale data: these settings do not allow demo data "
                "(DEMO_DATA_ALLOWED is False, as in production). Scale data adds "
                "thousands of users who all share one known password, and hundreds "
                "of thousands of invented audit events that can never be removed. "
                "If this is a throwaway benchmark database, run again with "
                "--i-know-this-is-not-production."
            )
        if options["scale"] <= 0:
            raise CommandError("--scale must be more than 0, like 1 or 0.005.")
        password = options["password"] or settings.DEMO_PASSWORD or BENCH_PASSWORD
        write = self.stdout.write
        write(f"Loading scale data at scale {options['scale']:g}:")
        try:
            loader = load_scale_data(
                scale=options["scale"],
                password=password,
                seed=options["seed"],
                report=write,
            )
        except ScaleDataExists as exc:
            raise CommandError(str(exc)) from exc
        write(
            self.style.SUCCESS(
                f"Scale data loaded in {loader.timings['total']:.1f} s: "
                + ", ".join(
                    f"{n:,} {name.replace('_', ' ')}"
                    for name, n in loader.counts.items()
                )
            )
        )
        coordinator, referrer = loader.coordinators[0], loader.referrers[0]
        write(
            f"Every scale user (scale-user-0001 onwards) has the password "
            f"{password!r} and an authenticator derived from SECRET_KEY. For "
            f"example {coordinator.username} (coordinator) and {referrer.username} "
            f"(referrer at {referrer.organisation})."
        )

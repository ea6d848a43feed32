"""Print the keyed digest a search term is stored as in the audit log, so an
investigator who knows a name can find who searched for it (docs/audit.md,
"No personal data in events")."""

from django.core.management.base import BaseCommand

from audit.privacy import search_term_digests


class Command(BaseCommand):
    help = (
        "Print a search term's digest under each configured audit key; find "
        "the searches with the audit log's detail.query_hmac."
    )

    def add_arguments(self, parser):
        parser.add_argument("term", help="the name or words searched for")

    def handle(self, *args, term, **options):
        # The term itself is never echoed, so the job's log does not hold it.
        for key_id, digest in search_term_digests(term).items():
            self.stdout.write(f"key {key_id}: {digest}")

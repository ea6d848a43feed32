"""PostgreSQL only: trigram and full-text indexes for the person search.

``pg_trgm`` lets a search find similar spellings of a name (Jon Smith for
John Smith) and serves the variants' ``LIKE`` through GIN indexes; the
full-text index serves phrase searches of free text, so each part of a
search is an index scan and PostgreSQL combines them (a bitmap OR). Creating an extension needs a privilege the database owner may
not have: without it the search works the same, with exact matching only
(``rights.selectors.trigram_available``). SQLite gets neither.
https://www.postgresql.org/docs/current/pgtrgm.html
"""

from django.db import migrations

FULL_TEXT_INDEX = (
    "CREATE INDEX IF NOT EXISTS rights_mention_text_fts ON rights_personmention "
    "USING gin (to_tsvector('simple'::regconfig, text))"
)
TRIGRAM_INDEXES = (
    # Similar spellings: ``name % query``.
    "CREATE INDEX IF NOT EXISTS rights_mention_name_trgm ON rights_personmention "
    "USING gin (name gin_trgm_ops)",
    # ``name_variants LIKE '%|j smith|%'``: without it every name search reads
    # the whole table (9 s at bench scale, 20,000 referrals).
    "CREATE INDEX IF NOT EXISTS rights_mention_variants_trgm ON "
    "rights_personmention USING gin (name_variants gin_trgm_ops)",
)


def indexes_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FULL_TEXT_INDEX)
        try:
            # A savepoint, so a refusal leaves the migration's transaction usable.
            cursor.execute("SAVEPOINT rights_pg_trgm")
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for statement in TRIGRAM_INDEXES:
                cursor.execute(statement)
            cursor.execute("RELEASE SAVEPOINT rights_pg_trgm")
        except Exception:  # not permitted: the search works without trigrams
            cursor.execute("ROLLBACK TO SAVEPOINT rights_pg_trgm")


def indexes_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS rights_mention_variants_trgm")
        cursor.execute("DROP INDEX IF EXISTS rights_mention_name_trgm")
        cursor.execute("DROP INDEX IF EXISTS rights_mention_text_fts")


class Migration(migrations.Migration):
    dependencies = [("rights", "0001_person_index")]

    operations = [migrations.RunPython(indexes_create, indexes_drop)]

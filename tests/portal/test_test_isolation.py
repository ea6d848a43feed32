"""The suite's own isolation: one test's clean-up never breaks the next.

Both failures here reached CI on PostgreSQL only, where 40 tests then failed
in whatever order xdist happened to give them: ``manage.py flush`` (run after
the browser crawl of every page) restarted the id sequences, so the next demo
seed made collection 1 again; that module's transaction, left open by the
failed seed, then held every later transactional test's rows uncommitted.
"""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from wagtail.models import Collection, Page

from tests.shared_setup import rolled_back_after_module


@pytest.mark.django_db(transaction=True)
def test_rows_made_after_a_flush_get_new_ids():
    root = Collection.get_first_root_node()
    call_command("flush", verbosity=0, interactive=False)

    made = Collection.get_first_root_node().add_child(name="Meeting resources")
    group = Group.objects.create(name="After a flush")

    assert made.pk != root.pk
    assert group.pk is not None
    assert Page.objects.filter(depth=1).exists(), "the root page was put back"


def test_a_module_setup_that_fails_leaves_no_transaction_open(
    django_db_setup, django_db_blocker
):
    with pytest.raises(RuntimeError), rolled_back_after_module(django_db_blocker):
        raise RuntimeError("the seed failed")

    assert not connection.in_atomic_block

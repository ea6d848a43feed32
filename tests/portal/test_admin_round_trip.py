"""Opening any admin edit screen and saving it unchanged changes nothing.

The screens come from the URL resolver (routes.py): every wagtail-modeladmin
edit view, and every Wagtail viewset edit view for one of the project's own
models (people, in Wagtail's user screens). A screen added later is covered
without anyone remembering to add it here.

Each row the demo holds is opened as the superuser and as a coordinator. Where
the page shows a form, what the page shows is posted back as a browser would
send it (tests.forms): the row (every concrete field, every many-to-many) must
be as it was, and the audit log must gain no event other than reads. Where a
person may not edit the row, the screen must say no without failing, and a
post must change nothing either.
"""

import inspect
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from wagtail.admin.views.generic.models import EditView

from accounts.models import Organisation, User
from audit.models import AuditEvent
from jobs.models import OutgoingEmail
from meetings.models import Action, Meeting
from tests.conftest import verified_client_for
from tests.forms import forms_on

from .routes import all_routes

# A walk over the whole portal: `make test` runs it, `make test-fast` does not.
pytestmark = [pytest.mark.django_db, pytest.mark.sweep]

ROUTES, _ = all_routes()
OUR_APPS = {
    config.label
    for config in apps.get_app_configs()
    if Path(config.path).parent == Path(settings.BASE_DIR)
}


def _edit_screens():
    """(name, model, url for a row) for each edit screen in the resolver."""
    screens = []
    for route in ROUTES:
        admin = route.model_admin
        view = inspect.unwrap(route.callback)
        if admin is not None:
            if view.__name__ == "edit_view" and not admin.is_pagemodel:
                screens.append((str(route), admin.model, _modeladmin_url(admin)))
            continue
        view_class = getattr(view, "view_class", None)
        model = getattr(view, "view_initkwargs", {}).get("model")
        if (
            view_class
            and issubclass(view_class, EditView)
            and isinstance(model, type)
            and model._meta.app_label in OUR_APPS
        ):
            screens.append((str(route), model, _reverse_url(route.name)))
    return screens


def _modeladmin_url(admin):
    return lambda pk: admin.url_helper.get_action_url("edit", quote(pk))


def _reverse_url(name):
    return lambda pk: reverse(name, args=[quote(pk)])


SCREENS = _edit_screens()
MAX_ROWS = 100


def _row(model, pk) -> dict:
    """Everything stored for the row: concrete fields and many-to-many ids."""
    obj = model._default_manager.get(pk=pk)
    row = {field.attname: getattr(obj, field.attname) for field in obj._meta.fields}
    for field in obj._meta.many_to_many:
        row[field.name] = sorted(getattr(obj, field.name).values_list("pk", flat=True))
    return row


def _changes_logged(since: int) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(pk__gt=since)
        .exclude(action="read")
        .values_list("action", "object_type")
    )


def _edit_form(html: str, url: str):
    """The page's edit form: the post form with the most named fields."""
    candidates = [form for form in forms_on(html, url) if form.method == "post"]
    assert candidates, f"{url}: no form to post"
    return max(candidates, key=lambda form: len(form.fields))


def _last_event() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.fixture(scope="module")
def people(demo_seeded, django_db_blocker):
    with django_db_blocker.unblock():
        return [User.objects.get(username=name) for name in ("admin", "coordinator")]


@pytest.fixture
def background_work(people):
    """An email and a task result, which the demo leaves none of."""
    OutgoingEmail.objects.create(
        event="round-trip",
        to="someone@example.org",
        subject="A subject",
        body="Line one.\nLine two.",
        next_attempt_at=timezone.now(),
    )
    DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="jobs.mail.email_deliver",
        backend_name="default",
        run_after=timezone.now(),
    )


def test_the_edit_screens_are_found():
    names = {model for _, model, _ in SCREENS}
    assert {Organisation, User, Meeting, Action} <= names


@pytest.mark.parametrize(
    ("screen", "model", "url_for"), SCREENS, ids=[name for name, _, _ in SCREENS]
)
def test_saving_an_edit_screen_unchanged_changes_nothing(
    people, background_work, screen, model, url_for
):
    # Every row the demo holds (people, organisations, meetings, actions),
    # and no more than a sample of the audit log.
    pks = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
    assert len(pks) <= MAX_ROWS or model is AuditEvent, "raise MAX_ROWS"
    pks = pks[:MAX_ROWS]
    problems, saved = [], 0
    for person in people:
        client = verified_client_for(person)
        for pk in pks:
            url = url_for(pk)
            page = client.get(url)
            if page.status_code >= 500:
                problems.append((person.username, url, "GET", page.status_code))
                continue
            before, since = _row(model, pk), _last_event()
            if page.status_code != 200:
                # Not this person's to edit: a post must change nothing either.
                refused = client.post(url, {})
                if refused.status_code not in (302, 403, 404):
                    problems.append((person.username, url, "POST", refused.status_code))
            else:
                form = _edit_form(page.content.decode(), url)
                response = client.post(form.action, form.post_data())
                if response.status_code != 302:
                    problems.append(
                        (person.username, url, "not saved", _errors(response))
                    )
                else:
                    saved += 1
            after = _row(model, pk)
            changed = {
                k: (before[k], after[k]) for k in before if before[k] != after[k]
            }
            if changed:
                problems.append((person.username, url, "changed", changed))
            logged = _changes_logged(since)
            if logged:
                problems.append((person.username, url, "logged", logged))
    assert problems == [], screen
    assert pks, f"{screen}: the demo has no rows to open"
    assert saved or not _editable(model), f"{screen}: nobody could save a row"


def _editable(model) -> bool:
    # Read-only screens (the audit log, background work, agreement versions)
    # are refused to everyone; the rest must really be saved by someone.
    return model in {Organisation, User} or model._meta.app_label == "meetings"


def _errors(response) -> str:
    context = getattr(response, "context", None)
    form = context.get("form") if context else None
    if form is not None and form.errors:
        return form.errors.as_json()
    return f"status {response.status_code}"


class TestPeopleScreen:
    """Two rows the demo does not hold, each once lost on an unchanged save."""

    def _saved_unchanged(self, client, person):
        url = reverse("wagtailusers_users:edit", args=[person.pk])
        before = _row(User, person.pk)
        form = _edit_form(client.get(url).content.decode(), url)
        response = client.post(form.action, form.post_data())
        assert response.status_code == 302, _errors(response)
        assert _row(User, person.pk) == before

    def test_an_administrator_saves_their_own_account(self, people):
        # Wagtail leaves "administrator" off their own form; the form asked
        # them for an organisation that administrators do not have.
        admin = people[0]
        assert admin.organisation_id is None
        self._saved_unchanged(verified_client_for(admin), admin)

    def test_a_person_whose_organisation_is_now_inactive(self, people):
        person = User.objects.filter(organisation__isnull=False).first()
        Organisation.objects.filter(pk=person.organisation_id).update(active=False)
        self._saved_unchanged(verified_client_for(people[0]), person)

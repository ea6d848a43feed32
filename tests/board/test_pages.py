"""The statistics page and the reports: who may see them, the period filter
and its refusals, the audit trail, and the chart markup."""

import re
from datetime import date

import pytest
from django.urls import reverse

from audit.models import AuditEvent, Outcome
from board.models import BoardReport
from board.periods import last_quarter
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory

from .crafted import quarter_dataset

pytestmark = pytest.mark.django_db

INDEX = "/board/"
QUARTER = {"start_0": "1", "start_1": "2026", "end_0": "3", "end_1": "2026"}


@pytest.fixture
def board_member():
    return UserFactory(
        organisation=OrganisationFactory(party=False), roles=["Board members"]
    )


@pytest.fixture
def board_client(board_member):
    return verified_client_for(board_member)


class TestWhoSeesIt:
    @pytest.mark.parametrize("roles", [["Board members"], ["Coordinators"]])
    def test_board_members_and_coordinators_see_the_figures(self, roles):
        person = UserFactory(roles=roles)
        response = verified_client_for(person).get(INDEX)
        assert response.status_code == 200
        assert "Board statistics" in response.content.decode()

    @pytest.mark.parametrize("roles", [["Referrers"], ["Signatories"], ["Editors"]])
    def test_everyone_else_is_refused_and_it_is_audited(self, roles):
        client = verified_client_for(UserFactory(roles=roles))
        for url in (INDEX, "/board/reports/"):
            response = client.get(url)
            assert response.status_code == 403
            assert "for members of the partnership board" in response.content.decode()
        assert client.post("/board/reports/build/").status_code == 403
        denied = AuditEvent.objects.filter(action="board.refused")
        assert denied.count() == 3
        assert {e.outcome for e in denied} == {Outcome.DENIED}

    def test_a_board_member_sees_no_case_material(self, board_client):
        quarter_dataset()
        for name in ("referrals:index", "meetings:index", "documents:index"):
            page = board_client.get(reverse(name))
            assert page.status_code in (200, 403)
            assert "CM-2026" not in page.content.decode(), name


class TestPeriod:
    def test_typed_months_choose_the_period(self, board_client):
        quarter_dataset()
        response = board_client.get(INDEX, QUARTER)
        page = response.content.decode()
        assert response.status_code == 200
        assert "January 2026 to March 2026" in page
        # 6 in January, fewer than 5 in February, March withheld; 13 in all.
        assert "Referrals: 6 in February" not in page
        assert "fewer than 5 in February 2026 and withheld in March 2026" in page
        event = AuditEvent.objects.get(action="board.statistics_viewed")
        assert event.detail == {"from": "2026-01", "to": "2026-03"}

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({**QUARTER, "start_0": "13"}, "Start month must be a real month"),
            ({**QUARTER, "end_1": ""}, "End month must include a year"),
            ({**QUARTER, "start_1": "26"}, "Year must include 4 numbers"),
            ({**QUARTER, "start_0": "x"}, "Start month must be a real month, in"),
            ({**QUARTER, "end_0": "1", "start_0": "3"}, "End month must be the same"),
            ({**QUARTER, "start_1": "2020"}, "The period can be at most 36 months"),
            ({**QUARTER, "end_1": "2099"}, "End month must be this month or earlier"),
        ],
    )
    def test_a_bad_period_is_refused_with_400(self, board_client, data, message):
        response = board_client.get(INDEX, data)
        page = response.content.decode()
        assert response.status_code == 400
        assert "There is a problem" in page
        assert message in page
        assert page.count(message) >= 2  # in the summary and by the field
        # What was typed is shown again.
        assert f'value="{data["start_1"]}"' in page
        assert not AuditEvent.objects.filter(action="board.statistics_viewed").exists()

    def test_a_null_character_in_the_address_is_refused(self, board_client):
        response = board_client.get(INDEX, {**QUARTER, "start_0": "\x00"})
        assert response.status_code == 400

    def test_presets(self, board_client):
        page = board_client.get(INDEX, {"preset": "last-quarter"}).content.decode()
        assert last_quarter().label in page
        assert board_client.get(INDEX, {"preset": "last-12-months"}).status_code == 200


class TestCharts:
    def test_each_chart_is_a_named_image_with_no_script_or_style(self, board_client):
        quarter_dataset()
        page = board_client.get(INDEX, QUARTER).content.decode()
        svgs = re.findall(r"<svg.*?</svg>", page, flags=re.S)
        assert len(svgs) == 7
        for svg in svgs:
            assert 'role="img"' in svg
            assert re.search(r'aria-labelledby="([\w-]+)-title \1-desc"', svg)
            assert "<title " in svg and "<desc " in svg
            for unsafe in ("<script", "<style", "style=", "onload", "href", "<a "):
                assert unsafe not in svg
        # A hidden count is a hatched bar labelled, never its number.
        assert 'data-hidden="small"' in page
        assert "url(#referrals-by-month-hatch)" in page
        assert "No bar is drawn for March 2026" in page

    def test_svg_safe_drops_scripts_handlers_and_links(self):
        from board.charts import svg_safe

        hostile = (
            '<svg xmlns="http://www.w3.org/2000/svg" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
            '<script>alert(1)</script><g onclick="alert(2)"><rect width="1" '
            'fill="url(https://evil.example/x)" height="1"/>'
            '<a xlink:href="javascript:alert(3)"><text>x</text></a>'
            '<foreignObject><div/></foreignObject><text x="1">ok</text></g></svg>'
        )
        safe = svg_safe(hostile, title_id="t", desc_id="d", title="T", summary="S")
        for unsafe in ("script", "onclick", "evil", "javascript", "foreignObject"):
            assert unsafe not in safe
        assert ">ok</text>" in safe
        assert '<title id="t">T</title>' in safe


class TestReports:
    @pytest.mark.slow
    def test_generate_now_enqueues_and_the_worker_builds_both(
        self, board_client, django_capture_on_commit_callbacks
    ):
        # Test settings run tasks at once (the immediate backend).
        with django_capture_on_commit_callbacks(execute=True):
            response = board_client.post("/board/reports/build/")
        assert response.status_code == 302
        period = last_quarter()
        reports = BoardReport.objects.filter(first_month=period.first)
        assert sorted(r.format for r in reports) == ["csv", "pdf"]
        assert AuditEvent.objects.filter(action="board.report_requested").count() == 1
        assert AuditEvent.objects.filter(action="board.report_generated").count() == 2


@pytest.mark.slow
def test_reports_page_lists_and_downloads_audited(board_client, board_member):
    from board.periods import Period
    from board.reports import report_build

    quarter_dataset()
    report_build(period=Period(date(2026, 1, 1), date(2026, 3, 1)))
    page = board_client.get("/board/reports/").content.decode()
    assert "January 2026 to March 2026" in page
    pdf = BoardReport.objects.get(format="pdf")
    response = board_client.get(f"/board/reports/{pdf.public_id}/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    event = AuditEvent.objects.get(action="board.report_downloaded")
    assert event.actor == board_member
    assert event.detail == {"format": "pdf", "bytes": pdf.size}


class TestFiguresKeptAMinute:
    """The figures and charts are built once and shown again from the shared
    cache, until anything in the portal changes (docs/caching.md)."""

    def test_a_second_look_reads_less_and_shows_the_same(self, board_client):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        quarter_dataset()
        with CaptureQueriesContext(connection) as first:
            before = board_client.get(INDEX, QUARTER).content.decode()
        with CaptureQueriesContext(connection) as second:
            again = board_client.get(INDEX, QUARTER).content.decode()
        assert len(second) < len(first) - 5
        # The same figures and charts (the page around them carries a new
        # script nonce and form token each time).
        main = re.compile(r"<main.*</main>", re.S)
        assert main.search(again).group() == main.search(before).group()
        assert "<svg" in main.search(again).group()
        # Each look is audited, cached or not.
        assert AuditEvent.objects.filter(action="board.statistics_viewed").count() == 2

    def test_a_new_referral_shows_at_once(self, board_client):
        from .crafted import referral

        quarter_dataset()
        page = board_client.get(INDEX, QUARTER).content.decode()
        assert "fewer than 5 in February 2026" in page
        police = OrganisationFactory(name="Late Police")
        referrer = UserFactory(organisation=police, roles=["Referrers"])
        for day in range(1, 6):
            referral(police, referrer, day=date(2026, 2, day))
        page = board_client.get(INDEX, QUARTER).content.decode()
        assert "fewer than 5 in February 2026" not in page

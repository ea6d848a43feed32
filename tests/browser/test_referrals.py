"""A referrer fills in a referral, checks it and submits it; a coordinator starts
screening it. In Chromium, with axe-core on every page on the way."""

import re

import pytest
from django import forms as django_forms
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from portal.forms import DateField
from referrals.forms import SECTIONS, SECTIONS_BY_SLUG
from referrals.models import Referral, ReferralDraft, Status
from tests.conftest import current_code
from tests.factories import TEST_PASSWORD, TOTPDeviceFactory, UserFactory
from tests.factories.documents import PDF
from tests.factories.referrals import answers_in, full_answers, multi_choice_fields

from .conftest import assert_accessible, screenshot
from .test_sign_in import enter_security_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A small, well-formed PDF: the upload checks open it (files.checks).
RISK_ASSESSMENT = {
    "name": "risk-assessment.pdf",
    "mimeType": "application/pdf",
    "buffer": PDF,
}


def sign_in(page, base_url: str, person) -> None:
    page.goto(f"{base_url}/sign-in/")
    assert_accessible(page)
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("Security code")).to_be_visible()
    assert_accessible(page)
    enter_security_code(page, current_code(person.totpdevice_set.get()))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Welcome, {person.first_name}"
    )
    assert_accessible(page)


def group(scope, name: str):
    """A fieldset (radios, checkboxes, a date, one item of a list) by its legend."""
    return scope.get_by_role("group", name=name, exact=True)


def choose(scope, question: str, answer: str) -> None:
    group(scope, question).get_by_label(answer, exact=True).check()


def fill_date(scope, legend: str, day: str, month: str, year: str) -> None:
    date = group(scope, legend)
    date.get_by_label("Day").fill(day)
    date.get_by_label("Month").fill(month)
    date.get_by_label("Year").fill(year)


def expect_section(page, title: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert_accessible(page)


def save_and_continue(page) -> None:
    page.get_by_role("button", name="Save and continue").click()


def expect_error(page, message: str, field, *, described=None, item="") -> None:
    """The summary says what is wrong and its link takes you to the field.

    The message describes the field, or for a date its fieldset (``described``),
    as in https://design-system.service.gov.uk/components/date-input/. In a
    list, the summary names the ``item`` ("Person 1") before the message.
    """
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_focused()
    expect(described or field).to_have_accessible_description(
        re.compile(re.escape(message))
    )
    assert_accessible(page)
    link = f"{item}: {message}" if item else message
    summary.get_by_role("link", name=link, exact=True).click()
    expect(field).to_be_focused()


def summary_value(page, label: str, group_heading: str | None = None):
    """The value of a row on check your answers (within a person, if named)."""
    scope = page
    if group_heading:
        heading = page.get_by_role("heading", name=group_heading, exact=True)
        scope = heading.locator("xpath=following-sibling::dl[1]")
    row = scope.locator(".govuk-summary-list__row").filter(
        has=page.locator("dt", has_text=re.compile(f"^{re.escape(label)}$"))
    )
    return row.locator(".govuk-summary-list__value")


@pytest.fixture
def referrer(db):
    person = UserFactory(first_name="Sam", last_name="Referrer", roles=[Role.REFERRER])
    TOTPDeviceFactory(user=person)
    return person


@pytest.fixture
def coordinator(db):
    person = UserFactory(first_name="Chris", roles=[Role.COORDINATOR])
    TOTPDeviceFactory(user=person)
    return person


def test_referrer_submits_and_coordinator_starts_screening(
    page, live_server, referrer, coordinator
):
    sign_in(page, live_server.url, referrer)
    page.get_by_role("link", name="Referrals", exact=True).click()
    expect_section(page, "Referrals")
    page.get_by_role("button", name="Make a referral").click()
    expect_section(page, "Make a CMARAC referral")
    expect(page.get_by_text("You have completed 0 of 8 sections.")).to_be_visible()
    screenshot(page, "referral-task-list")

    # 1. Eligibility
    page.get_by_role("link", name="Eligibility").click()
    expect_section(page, "Eligibility")
    choose(page, "Who in this case is vulnerable?", "A victim of anti-social behaviour")
    choose(page, "Is the risk significant or escalating?", "Yes")
    page.get_by_label("Why does this case need a multi-agency approach?").fill(
        "Police warnings and a housing visit have not stopped it."
    )
    choose(
        page,
        "Is this case already held by another panel?",
        "No, no other panel holds this case",
    )
    choose(
        page,
        "Is there a risk of serious harm before the next CMARAC meeting?",
        "No",
    )
    save_and_continue(page)

    # 2. About you: the name and email come from the account.
    expect_section(page, "About you")
    expect(page.get_by_label("Your full name")).to_have_value("Sam Referrer")
    expect(page.get_by_label("Your work email address")).to_have_value(referrer.email)
    page.get_by_label("Your job title").fill("ASB officer")
    page.get_by_label("Your phone number").fill("020 7946 0001")
    choose(page, "Is your line manager aware of this referral?", "Yes")
    page.get_by_label("Who will present the case at the meeting?").fill(
        "Sam Referrer, ASB officer"
    )
    save_and_continue(page)

    # 3. Type of referral: 31 February first, then a real date.
    expect_section(page, "Type of referral")
    choose(page, "Is this a new or a repeat referral?", "Repeat referral")
    fill_date(page, "When was the case last at the CMARAC?", "31", "2", "2020")
    page.get_by_label("Police reference numbers").fill("CAD 4321")
    save_and_continue(page)
    last_date = group(page, "When was the case last at the CMARAC?")
    expect_error(
        page,
        "Date of the last CMARAC must be a real date",
        last_date.get_by_label("Day"),
        described=last_date,
    )
    screenshot(page, "referral-date-error")
    expect(last_date.get_by_label("Day")).to_have_value("31")
    expect(last_date.get_by_label("Month")).to_have_value("2")
    expect(last_date.get_by_label("Year")).to_have_value("2020")
    expect(page.get_by_label("Repeat referral")).to_be_checked()
    expect(page.get_by_label("Police reference numbers")).to_have_value("CAD 4321")
    last_date.get_by_label("Day").fill("28")
    save_and_continue(page)

    # 4. People: three people, the middle one removed; a postcode to correct.
    expect_section(page, "People")
    first = group(page, "Person 1")
    choose(first, "Their part in the case", "Victim")
    first.get_by_label("Full name").fill("Alex Example")
    fill_date(first, "Date of birth", "4", "7", "1970")
    first.get_by_label("Address", exact=True).fill("Flat 3, 12 Example Road")
    first.get_by_label("Postcode").fill("N1")
    first.get_by_label("Tenure").select_option(label="Council tenant")
    first.get_by_label("Safe contact number").fill("07700 900 982")
    choose(first, "Is it safe to leave a message?", "No")
    page.get_by_role("button", name="Add another person").click()
    second = group(page, "Person 2")
    expect(second).to_be_visible()
    expect(first.get_by_label("Full name")).to_have_value("Alex Example")
    assert_accessible(page)
    choose(second, "Their part in the case", "Witness")
    second.get_by_label("Full name").fill("Wyn Witness")
    second.get_by_label("Age, if you do not know their date of birth").fill("61")
    page.get_by_role("button", name="Add another person").click()
    third = group(page, "Person 3")
    choose(third, "Their part in the case", "Person causing harm")
    third.get_by_label("Full name").fill("Jo Bloggs")
    third.get_by_label("Age, if you do not know their date of birth").fill("34")
    page.get_by_role("button", name="Remove person 2").click()
    expect(page.get_by_role("group", name=re.compile(r"^Person \d+$"))).to_have_count(2)
    expect(group(page, "Person 2").get_by_label("Full name")).to_have_value("Jo Bloggs")
    expect(page.get_by_text("Wyn Witness")).to_have_count(0)
    assert_accessible(page)
    save_and_continue(page)
    postcode = group(page, "Person 1").get_by_label("Postcode")
    expect_error(
        page, "Enter a full UK postcode, like AA3 1AB", postcode, item="Person 1"
    )
    screenshot(page, "referral-people-error")
    expect(postcode).to_have_value("N1")
    expect(group(page, "Person 1").get_by_label("Full name")).to_have_value(
        "Alex Example"
    )
    postcode.fill("N1 1XA")
    save_and_continue(page)

    # 5. Household and children
    expect_section(page, "Household and children")
    page.get_by_role("button", name="Add a child").click()
    child = group(page, "Child 1")
    expect(child).to_be_visible()
    assert_accessible(page)
    child.get_by_label("Child's name").fill("Rowan Example")
    fill_date(child, "Date of birth", "12", "9", "2015")
    child.get_by_label("School or nursery").fill("Example Primary")
    child.get_by_label("Relationship to the people referred").fill("Alex's son")
    save_and_continue(page)

    # 6. The behaviour, the risk, an incident and a risk assessment
    expect_section(page, "The anti-social behaviour and the risk")
    behaviour = "What kind of anti-social behaviour is it?"
    choose(page, behaviour, "Noise")
    choose(page, behaviour, "Criminal damage")
    page.get_by_label("How has it escalated?").fill("From noise to damage.")
    page.get_by_label("What is the impact on the victim?").fill(
        "She no longer leaves the flat after dark."
    )
    page.get_by_label("Mental health", exact=True).fill("Anxiety, seen by her GP.")
    choose(page, "What is the risk level?", "High")
    incident = group(page, "Incident 1")
    fill_date(incident, "Date", "14", "10", "2025")
    incident.get_by_label("What happened?").fill("Front door kicked in.")
    incident.get_by_label("Reference number").fill("CAD 1234")
    page.get_by_label("Attach a risk assessment (optional)").set_input_files(
        RISK_ASSESSMENT
    )
    choose(page, "Who can see the file?", "Every agency the case is shared with")
    save_and_continue(page)

    # 7. What has been done
    expect_section(page, "What has been done")
    choose(page, "Which agencies are already involved?", "Police")
    choose(page, "Which agencies are already involved?", "Housing")
    page.get_by_label("What has been done so far, and with what outcome?").fill(
        "Warning letter in August; no change."
    )
    page.get_by_label("What does the victim want to happen?").fill(
        "To feel safe at home."
    )
    save_and_continue(page)

    # 8. Consent and lawful basis
    expect_section(page, "Consent and lawful basis")
    choose(page, "Does the person know they are being referred?", "Yes")
    choose(
        page,
        "Did they consent to their information being shared?",
        "Yes, consent was given",
    )
    group(page, "UK GDPR Article 6 lawful basis").get_by_label(
        "Article 6(1)(e)"
    ).check()
    group(page, "Article 9 or Article 10 conditions").get_by_label(
        "Article 9(2)(g)"
    ).check()
    page.get_by_label("This sharing is to prevent or reduce crime").check()
    page.get_by_label("Do not disclose the victim's and witnesses'").check()
    save_and_continue(page)

    # Check answers, change two of them, and come back each time.
    expect_section(page, "Check your answers before you submit the referral")
    expect(page.get_by_text("Not complete")).to_have_count(0)
    expect(summary_value(page, "What is the risk level?")).to_have_text("High")
    expect(page.get_by_text("risk-assessment.pdf")).to_be_visible()
    screenshot(page, "referral-check")

    page.get_by_role("link", name="Change what is the risk level?").click()
    expect_section(page, "The anti-social behaviour and the risk")
    expect(page.get_by_label("High", exact=True)).to_be_checked()
    choose(page, "What is the risk level?", "Medium")
    page.get_by_role("button", name="Save and return to check your answers").click()
    expect_section(page, "Check your answers before you submit the referral")
    expect(summary_value(page, "What is the risk level?")).to_have_text("Medium")

    page.get_by_role("link", name="Change full name (person 2)").click()
    expect_section(page, "People")
    name = group(page, "Person 2").get_by_label("Full name")
    expect(name).to_have_value("Jo Bloggs")
    name.fill("Jo Bloggs-Smith")
    page.get_by_role("button", name="Save and return to check your answers").click()
    expect_section(page, "Check your answers before you submit the referral")
    expect(summary_value(page, "Full name", "Person 2")).to_have_text("Jo Bloggs-Smith")

    # The declaration is needed before anything is sent.
    page.get_by_role("button", name="Submit referral").click()
    declaration = page.get_by_label("I confirm the information is accurate")
    expect_error(
        page,
        "Confirm the information is accurate and sharing it is necessary",
        declaration,
    )
    declaration.check()
    page.get_by_role("button", name="Submit referral").click()

    reference = f"CM-{timezone.localdate().year}-0001"
    panel = page.locator(".govuk-panel--confirmation")
    expect(panel.get_by_role("heading", level=1)).to_have_text("Referral submitted")
    expect(panel).to_contain_text(reference)
    assert_accessible(page)
    screenshot(page, "referral-submitted")
    referral = Referral.objects.get()
    assert referral.reference == reference
    assert referral.organisation == referrer.organisation
    assert referral.risk_level == "medium"
    people = referral.answers["people"]["people"]
    assert [p["full_name"] for p in people] == ["Alex Example", "Jo Bloggs-Smith"]
    assert referral.answers["household"]["children"][0]["name"] == "Rowan Example"
    assert referral.attachments.get().original_name == "risk-assessment.pdf"

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    assert_accessible(page)

    # A coordinator opens the referral and starts screening it.
    sign_in(page, live_server.url, coordinator)
    page.get_by_role("link", name="Referrals", exact=True).click()
    expect_section(page, "Referrals")
    page.get_by_role("link", name=reference).click()
    expect_section(page, reference)
    expect(page.get_by_role("heading", name="Screening")).to_be_visible()
    choose(page, "What happens next?", "Start screening")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_text(f"{reference} is now 'Screening'.")).to_be_visible()
    status = page.get_by_role("main").locator("p > strong.govuk-tag").first
    expect(status).to_have_text("Screening")
    assert_accessible(page)
    screenshot(page, "referral-screening")
    referral.refresh_from_db()
    assert referral.status == Status.SCREENING


def test_answers_are_saved_while_typing(page, live_server, referrer):
    sign_in(page, live_server.url, referrer)
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_role("button", name="Make a referral").click()
    page.get_by_role("link", name="Eligibility").click()
    expect_section(page, "Eligibility")

    reason = page.get_by_label("Why does this case need a multi-agency approach?")
    reason.press_sequentially("Nothing has worked so far.")
    # portal.js waits four seconds after the last key before it saves.
    saved = page.get_by_role("status").filter(has_text="Your answers were saved at")
    expect(saved).to_have_text(
        re.compile(r"^Your answers were saved at \d\d:\d\d\.$"), timeout=10_000
    )
    assert_accessible(page)
    draft = ReferralDraft.objects.get()
    assert draft.answers["eligibility"]["multi_agency_reason"] == [
        "Nothing has worked so far."
    ]

    page.reload()
    expect_section(page, "Eligibility")
    expect(reason).to_have_value("Nothing has worked so far.")


# Every question of every section, as a person answers it -------------------------
#
# The answers come from tests.factories.referrals.full_answers(): every question
# answered, two items in every list and two options ticked on every
# "select all that apply" question, found from the form classes. Each question
# is found on the page by its label or legend and answered by its widget, so a
# new question is answered (and checked) here without changing this test.


def _choice_label(form_field, value: str) -> str:
    return str(dict(form_field.choices)[value])


def _answer(scope, form_class, raw: dict, prefix: str = "") -> None:
    """Type into the boxes, click the radios and checkboxes, pick from lists."""
    for name, form_field in form_class.base_fields.items():
        key, label = f"{prefix}{name}", str(form_field.label)
        widget = form_field.widget
        if isinstance(form_field, DateField):
            parts = [raw.get(f"{key}_{index}", [""])[0] for index in range(3)]
            if any(parts):
                fill_date(scope, label, *parts)
        elif isinstance(widget, django_forms.CheckboxSelectMultiple):
            for value in raw.get(key, []):
                choice = _choice_label(form_field, value)
                group(scope, label).get_by_label(choice, exact=True).click()
        elif isinstance(widget, django_forms.RadioSelect):
            for value in raw.get(key, []):
                choose(scope, label, _choice_label(form_field, value))
        elif isinstance(widget, django_forms.CheckboxInput):
            scope.get_by_label(label, exact=True).set_checked(bool(raw.get(key)))
        elif isinstance(widget, django_forms.Select):
            scope.get_by_label(label, exact=True).select_option(raw.get(key, [""])[0])
        else:
            box = scope.get_by_label(label, exact=True)
            box.click()
            box.fill(raw.get(key, [""])[0])


def _expect_answered(scope, form_class, raw: dict, prefix: str = "") -> None:
    """The page shows exactly what was answered: typed values, and every box
    and radio checked or not as it was left."""
    for name, form_field in form_class.base_fields.items():
        key, label = f"{prefix}{name}", str(form_field.label)
        widget = form_field.widget
        if isinstance(form_field, DateField):
            date = group(scope, label)
            for index, part in enumerate(("Day", "Month", "Year")):
                expect(date.get_by_label(part)).to_have_value(
                    raw.get(f"{key}_{index}", [""])[0]
                )
        elif isinstance(widget, django_forms.RadioSelect):
            chosen = set(raw.get(key, []))
            for value, choice in form_field.choices:
                option = group(scope, label).get_by_label(str(choice), exact=True)
                if value in chosen:
                    expect(option).to_be_checked()
                else:
                    expect(option).not_to_be_checked()
        elif isinstance(widget, django_forms.CheckboxInput):
            box = scope.get_by_label(label, exact=True)
            expect(box).to_be_checked(checked=bool(raw.get(key)))
        else:
            expect(scope.get_by_label(label, exact=True)).to_have_value(
                raw.get(key, [""])[0]
            )


def _items(page, repeat):
    noun = repeat.noun[0].upper() + repeat.noun[1:]
    return page.get_by_role("group", name=re.compile(rf"^{noun} \d+$"))


def _each_item(page, repeat, raw):
    count = int(raw[f"{repeat.prefix}-TOTAL_FORMS"][0])
    noun = repeat.noun[0].upper() + repeat.noun[1:]
    for index in range(count):
        yield group(page, f"{noun} {index + 1}"), f"{repeat.prefix}-{index}-"


def _answer_section(page, section, raw) -> None:
    for repeat in section.repeats:
        wanted = int(raw[f"{repeat.prefix}-TOTAL_FORMS"][0])
        add = page.get_by_role(
            "button", name=re.compile(rf"^Add (a|another) {repeat.noun}$")
        )
        while _items(page, repeat).count() < wanted:
            shown = _items(page, repeat).count()
            add.click()
            expect(_items(page, repeat)).to_have_count(shown + 1)
    _answer(page, section.form_class, raw)
    for repeat in section.repeats:
        for item, prefix in _each_item(page, repeat, raw):
            _answer(item, repeat.form_class, raw, prefix)


def _expect_section_answered(page, section, raw) -> None:
    _expect_answered(page, section.form_class, raw)
    for repeat in section.repeats:
        expect(_items(page, repeat)).to_have_count(
            int(raw[f"{repeat.prefix}-TOTAL_FORMS"][0])
        )
        for item, prefix in _each_item(page, repeat, raw):
            _expect_answered(item, repeat.form_class, raw, prefix)


def _chosen_labels(form_field, values) -> str:
    return "; ".join(_choice_label(form_field, value) for value in values)


def _expect_every_choice_shown(page, full: dict) -> None:
    """Each multi-choice answer, every option ticked, on check answers or the
    case page."""
    for section in SECTIONS:
        for name in multi_choice_fields(section.form_class):
            form_field = section.form_class.base_fields[name]
            expect(summary_value(page, str(form_field.label))).to_have_text(
                _chosen_labels(form_field, full[section.slug][name])
            )


def test_every_question_of_every_section_as_a_person_answers_it(
    page, live_server, referrer
):
    full = full_answers()
    sign_in(page, live_server.url, referrer)
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_role("button", name="Make a referral").click()
    expect_section(page, "Make a CMARAC referral")
    task_list = page.url

    for section in SECTIONS:
        raw = full[section.slug]
        page.get_by_role("link", name=section.title, exact=True).click()
        expect_section(page, section.title)
        expect(page.locator("[aria-current=page]")).to_have_text(section.title)
        _answer_section(page, section, raw)
        assert_accessible(page)
        page.get_by_role("button", name="Save and come back later").click()
        expect_section(page, "Make a CMARAC referral")
        status = page.get_by_role("link", name=section.title, exact=True)
        expect(status).to_have_accessible_description("Completed")

        # What the draft keeps is what was typed and ticked, nothing lost.
        stored = ReferralDraft.objects.get().answers[section.slug]
        assert answers_in(stored) == answers_in(raw), section.slug

        # Opened again: every box and value as it was left.
        page.get_by_role("link", name=section.title, exact=True).click()
        expect_section(page, section.title)
        _expect_section_answered(page, section, raw)
        page.goto(task_list)

    # Saving a section unchanged changes nothing, a list section included.
    draft = ReferralDraft.objects.get()
    for slug in ("eligibility", "people"):
        before = draft.answers[slug]
        page.get_by_role("link", name=SECTIONS_BY_SLUG[slug].title, exact=True).click()
        page.get_by_role("button", name="Save and come back later").click()
        expect_section(page, "Make a CMARAC referral")
        draft.refresh_from_db()
        assert draft.answers[slug] == before, slug

    page.get_by_role("button", name="Check your answers").click()
    expect_section(page, "Check your answers before you submit the referral")
    expect(page.get_by_text("Not complete")).to_have_count(0)
    _expect_every_choice_shown(page, full)
    expect(summary_value(page, "Age (optional)", "Household member 2")).to_have_text(
        "0"
    )
    expect(summary_value(page, "Date of birth", "Child 1")).to_have_text(
        "12 September 2015"
    )
    page.get_by_label("I confirm the information is accurate").check()
    page.get_by_role("button", name="Submit referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral submitted")
    assert_accessible(page)

    referral = Referral.objects.get()
    for section in SECTIONS:
        for name in multi_choice_fields(section.form_class):
            assert (
                referral.answers[section.slug]["fields"][name]
                == full[section.slug][name]
            ), (section.slug, name)

    page.get_by_role("link", name="View the referral").click()
    expect_section(page, referral.reference)
    _expect_every_choice_shown(page, full)


def test_a_problem_with_the_whole_list_takes_focus_to_its_button(
    page, live_server, referrer
):
    sign_in(page, live_server.url, referrer)
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_role("button", name="Make a referral").click()
    page.get_by_role("link", name="People", exact=True).click()
    expect_section(page, "People")
    page.get_by_role("button", name="Remove person 1").click()
    expect(page.get_by_text("None added.")).to_be_visible()
    save_and_continue(page)
    expect_error(
        page,
        "Add at least 1 person",
        page.get_by_role("button", name="Add a person"),
        described=group(page, "People in the case"),
    )


# Saving in the background ------------------------------------------------------


def _is_autosave(response) -> bool:
    request = response.request
    return request.method == "POST" and b'name="action"\r\n\r\nautosave' in (
        request.post_data_buffer or b""
    )


def _eligibility(page, live_server, referrer) -> str:
    sign_in(page, live_server.url, referrer)
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_role("button", name="Make a referral").click()
    page.get_by_role("link", name="Eligibility", exact=True).click()
    expect_section(page, "Eligibility")
    return page.url


def test_two_ticked_options_are_saved_in_the_background(page, live_server, referrer):
    _eligibility(page, live_server, referrer)
    question = group(page, "Who in this case is vulnerable?")
    with page.expect_response(_is_autosave, timeout=15_000) as saved:
        question.get_by_label("A victim of anti-social behaviour").click()
        question.get_by_label("A witness").click()
    assert saved.value.status == 200
    expect(page.get_by_role("status")).to_contain_text("Your answers were saved at")
    assert ReferralDraft.objects.get().answers["eligibility"]["vulnerable"] == [
        "victim",
        "witness",
    ]

    page.reload()
    expect_section(page, "Eligibility")
    question = group(page, "Who in this case is vulnerable?")
    expect(question.get_by_label("A victim of anti-social behaviour")).to_be_checked()
    expect(question.get_by_label("A witness")).to_be_checked()
    expect(question.get_by_label("The person causing harm")).not_to_be_checked()


def test_a_late_autosave_from_another_tab_keeps_the_newer_answers(
    page, live_server, referrer
):
    url = _eligibility(page, live_server, referrer)
    # A second tab on the same section, opened before either is saved.
    other = page.context.new_page()
    other.goto(url)
    expect_section(other, "Eligibility")

    # The second tab saves first: victim and witness.
    question = group(other, "Who in this case is vulnerable?")
    question.get_by_label("A victim of anti-social behaviour").click()
    question.get_by_label("A witness").click()
    other.get_by_role("button", name="Save and come back later").click()
    expect_section(other, "Make a CMARAC referral")

    # The first tab, still showing the older page, changes its mind later.
    with page.expect_response(_is_autosave, timeout=15_000) as late:
        group(page, "Who in this case is vulnerable?").get_by_label(
            "The person causing harm"
        ).click()
    assert late.value.status == 409
    expect(page.get_by_role("status")).to_contain_text(
        "This section was saved in another window"
    )
    stored = ReferralDraft.objects.get().answers["eligibility"]["vulnerable"]
    assert stored == ["victim", "witness"]

    page.reload()
    question = group(page, "Who in this case is vulnerable?")
    expect(question.get_by_label("A victim of anti-social behaviour")).to_be_checked()
    expect(question.get_by_label("A witness")).to_be_checked()
    expect(question.get_by_label("The person causing harm")).not_to_be_checked()

"""Each section of the referral form: what it asks for and what it says when wrong.

Messages follow the GOV.UK Design System: they say what to do ("Enter the
person's full name"), not what went wrong.
"""

from datetime import date, timedelta

import pytest
from django import forms
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from portal.forms import DateField, PhoneField, PostcodeField
from referrals.answers import bind
from referrals.forms import (
    OTHER_PANEL_POINTERS,
    SECTIONS_BY_SLUG,
    ActionsForm,
    ChildForm,
    ConsentForm,
    EligibilityForm,
    HouseholdMemberForm,
    IncidentForm,
    ReferralTypeForm,
    ReferrerForm,
    RiskForm,
)
from tests.factories.referrals import complete_answers, person


def _flat(raw: dict) -> MultiValueDict:
    """Raw draft data ({name: [values]}) as form data, as a browser sends it."""
    return MultiValueDict(raw)


def errors_of(form_class, data: dict) -> dict[str, list[str]]:
    form = form_class(data)
    form.is_valid()
    return {name: list(messages) for name, messages in form.errors.items()}


def section_errors(slug: str, raw: dict) -> list[str]:
    bound = bind(SECTIONS_BY_SLUG[slug], raw)
    bound.is_valid()
    return [message for _, message in bound.errors()]


def answers(slug: str, **changes) -> dict:
    """A valid section's raw data with ``changes`` ({name: value}) applied."""
    raw = complete_answers()[slug]
    for name, value in changes.items():
        if value is None:
            raw.pop(name, None)
        else:
            raw[name] = value if isinstance(value, list) else [value]
    return raw


def people_raw(*items) -> dict:
    raw = {"people-TOTAL_FORMS": [str(len(items))], "people-INITIAL_FORMS": ["0"]}
    for item in items:
        raw.update(item)
    return raw


def date_parts(name: str, day="", month="", year="") -> dict:
    return {f"{name}_0": str(day), f"{name}_1": str(month), f"{name}_2": str(year)}


class TestEligibility:
    def test_a_complete_page_is_valid(self):
        assert errors_of(EligibilityForm, _flat(answers("eligibility"))) == {}

    def test_every_question_says_what_to_answer(self):
        assert errors_of(EligibilityForm, {}) == {
            "vulnerable": ["Select who in this case is vulnerable"],
            "escalating": ["Select yes if the risk is significant or escalating"],
            "multi_agency_reason": [
                "Enter why this case needs a multi-agency approach"
            ],
            "other_panel": ["Select whether another panel already holds this case"],
            "urgent": [
                "Select yes if there is a risk of serious harm before the next meeting"
            ],
        }

    def test_urgent_needs_the_risk_described(self):
        data = _flat(answers("eligibility", urgent="yes", urgency_reason=""))
        assert errors_of(EligibilityForm, data) == {
            "urgency_reason": ["Enter what the risk is and how soon"]
        }
        data.setlist("urgency_reason", ["Threats to burn the door this weekend."])
        assert errors_of(EligibilityForm, data) == {}

    def test_not_urgent_needs_no_reason(self):
        data = _flat(answers("eligibility", urgent="no", urgency_reason=None))
        assert errors_of(EligibilityForm, data) == {}

    @pytest.mark.parametrize("panel", sorted(OTHER_PANEL_POINTERS))
    def test_a_case_held_by_another_panel_is_pointed_there(self, panel):
        data = _flat(answers("eligibility", other_panel=panel))
        assert errors_of(EligibilityForm, data) == {
            "other_panel": [OTHER_PANEL_POINTERS[panel]]
        }

    def test_the_pointer_for_domestic_abuse_names_the_da_marac(self):
        data = _flat(answers("eligibility", other_panel="da_marac"))
        (message,) = errors_of(EligibilityForm, data)["other_panel"]
        assert "domestic abuse MARAC" in message


class TestReferrer:
    def test_every_question_says_what_to_answer(self):
        assert errors_of(ReferrerForm, {}) == {
            "name": ["Enter your full name"],
            "job_title": ["Enter your job title"],
            "email": ["Enter your work email address"],
            "phone": ["Enter your phone number"],
            "line_manager_aware": ["Select yes if your line manager is aware"],
            "presenter": ["Enter who will present the case"],
        }

    def test_a_mistyped_email_address_shows_the_format(self):
        data = _flat(answers("referrer", email="sam.example.org"))
        assert errors_of(ReferrerForm, data) == {
            "email": [
                "Enter an email address in the correct format, like name@example.org.uk"
            ]
        }

    def test_a_phone_number_that_is_not_uk_says_how_to_write_one(self):
        data = _flat(answers("referrer", phone="12345"))
        assert errors_of(ReferrerForm, data)["phone"] == [
            "Enter a UK phone number, like 01632 960 001, 07700 900 982 or "
            "+44 808 157 0192"
        ]


class TestReferralType:
    def test_new_or_repeat_must_be_chosen(self):
        assert errors_of(ReferralTypeForm, {}) == {
            "kind": ["Select whether this is a new or a repeat referral"]
        }

    def test_a_new_referral_needs_no_earlier_meeting_date(self):
        assert errors_of(ReferralTypeForm, {"kind": "new"}) == {}

    def test_a_repeat_referral_needs_the_last_meeting_date(self):
        assert errors_of(ReferralTypeForm, {"kind": "repeat"}) == {
            "last_cmarac_date": ["Enter the date of the last CMARAC meeting"]
        }
        data = {"kind": "repeat", **date_parts("last_cmarac_date", "3", "2", "2026")}
        assert errors_of(ReferralTypeForm, data) == {}

    def test_a_half_typed_date_gets_one_message_not_two(self):
        data = {"kind": "repeat", **date_parts("last_cmarac_date", "3", "", "2026")}
        assert errors_of(ReferralTypeForm, data) == {
            "last_cmarac_date": ["Date of the last CMARAC must include a month"]
        }

    def test_the_last_meeting_cannot_be_in_the_future(self):
        soon = timezone.localdate() + timedelta(days=7)
        data = {
            "kind": "repeat",
            **date_parts("last_cmarac_date", soon.day, soon.month, soon.year),
        }
        assert errors_of(ReferralTypeForm, data) == {
            "last_cmarac_date": ["Date of the last CMARAC must be today or in the past"]
        }


class TestPeople:
    def test_a_complete_list_is_valid(self):
        assert section_errors("people", people_raw(person(0))) == []

    def test_each_person_needs_a_part_and_a_name(self):
        raw = people_raw(person(0))
        raw["people-0-role"] = [""]
        raw["people-0-full_name"] = [""]
        assert section_errors("people", raw) == [
            "Person 1: Select the person's part in the case",
            "Person 1: Enter the person's full name",
        ]

    def test_messages_name_the_person_they_are_about(self):
        raw = people_raw(person(0), person(1, role="causing_harm", name=""))
        assert section_errors("people", raw) == [
            "Person 2: Enter the person's full name"
        ]

    def test_a_person_needs_a_date_of_birth_or_an_age(self):
        raw = people_raw(person(0, born=None))
        assert section_errors("people", raw) == [
            "Person 1: Enter their date of birth, or their age if you do not know it"
        ]

    @pytest.mark.parametrize("age", ["0", "34", "120"])
    def test_an_age_will_do_without_a_date_of_birth(self, age):
        assert section_errors("people", people_raw(person(0, born=None, age=age))) == []

    @pytest.mark.parametrize(
        ("age", "message"),
        [
            ("thirty", "Age must be a whole number, like 34"),
            ("-1", "Age must be 0 or more"),
            ("121", "Age must be 120 or less"),
        ],
    )
    def test_an_age_that_is_not_an_age(self, age, message):
        raw = people_raw(person(0, born=None, age=age))
        # Only the age message: asking for a date of birth as well would confuse.
        assert section_errors("people", raw) == [f"Person 1: {message}"]

    def test_a_date_of_birth_cannot_be_in_the_future(self):
        tomorrow = timezone.localdate() + timedelta(days=1)
        raw = people_raw(person(0, born=(tomorrow.day, tomorrow.month, tomorrow.year)))
        assert section_errors("people", raw) == [
            "Person 1: Date of birth must be today or in the past"
        ]

    def test_the_list_needs_a_victim_a_witness_or_the_person_causing_harm(self):
        raw = people_raw(person(0, role="at_risk"), person(1, role="at_risk"))
        assert section_errors("people", raw) == [
            "Add the victim, a witness or the person causing harm: the referral "
            "must be about at least one of them"
        ]

    @pytest.mark.parametrize("role", ["victim", "witness", "causing_harm"])
    def test_any_one_of_them_is_enough(self, role):
        raw = people_raw(person(0, role="at_risk"), person(1, role=role))
        assert section_errors("people", raw) == []

    def test_an_empty_list_asks_for_a_person_in_plain_words(self):
        errors = section_errors("people", people_raw())
        assert errors == ["Add at least 1 person"]

    def test_postcode_and_phone_are_tidied(self):
        raw = people_raw(person(0, postcode=" n11xa ", phone=" 07700 900982 "))
        bound = bind(SECTIONS_BY_SLUG["people"], raw)
        assert bound.is_valid()
        (cleaned,) = bound.cleaned()["people"]
        assert cleaned["postcode"] == "N1 1XA"
        assert cleaned["phone"] == "07700 900982"
        assert cleaned["date_of_birth"] == "1970-07-04"

    def test_a_wrong_postcode_or_phone_says_what_to_fix(self):
        raw = people_raw(person(0, postcode="N1", phone="0770"))
        assert section_errors("people", raw) == [
            "Person 1: Enter a full UK postcode, like AA3 1AB",
            "Person 1: Enter a UK phone number, like 01632 960 001, 07700 900 982 "
            "or +44 808 157 0192",
        ]


class TestHousehold:
    def test_no_members_and_no_children_is_fine(self):
        raw = {"members-TOTAL_FORMS": ["0"], "children-TOTAL_FORMS": ["0"]}
        assert section_errors("household", raw) == []

    def test_a_household_member_needs_a_name_and_relationship(self):
        assert errors_of(HouseholdMemberForm, {}) == {
            "name": ["Enter the household member's name"],
            "relationship": ["Enter how they are related to the people referred"],
        }

    def test_a_child_needs_a_name_date_of_birth_and_relationship(self):
        assert errors_of(ChildForm, {}) == {
            "name": ["Enter the child's name"],
            "date_of_birth": ["Enter the child's date of birth"],
            "relationship": ["Enter the child's relationship to the people referred"],
        }

    def test_messages_in_a_list_name_the_item(self):
        raw = {
            "members-TOTAL_FORMS": ["0"],
            "children-TOTAL_FORMS": ["2"],
            "children-0-name": ["Jo"],
            "children-0-relationship": ["Daughter"],
            "children-0-date_of_birth_0": ["1"],
            "children-0-date_of_birth_1": ["2"],
            "children-0-date_of_birth_2": ["2015"],
            "children-1-name": ["Kit"],
            "children-1-relationship": ["Son"],
            "children-1-date_of_birth_0": ["1"],
        }
        assert section_errors("household", raw) == [
            "Child 2: Child's date of birth must include a month and year"
        ]


class TestRisk:
    def test_a_complete_page_is_valid(self):
        assert section_errors("risk", answers("risk")) == []

    def test_every_question_says_what_to_answer(self):
        assert errors_of(RiskForm, {}) == {
            "asb_types": ["Select what kind of anti-social behaviour it is"],
            "escalation": ["Enter how the behaviour has escalated"],
            "impact": ["Enter the impact on the victim"],
            "risk_level": ["Select the risk level"],
        }

    def test_other_behaviour_must_be_described(self):
        raw = answers("risk", asb_types=["noise", "other"])
        assert section_errors("risk", raw) == [
            "Enter what kind of anti-social behaviour it is"
        ]
        raw["asb_other"] = ["Dogs set on the victim's cat"]
        assert section_errors("risk", raw) == []

    def test_a_too_long_other_behaviour_gets_one_message(self):
        raw = answers("risk", asb_types=["other"], asb_other="x" * 201)
        (message,) = section_errors("risk", raw)
        assert "200" in message

    def test_at_least_one_incident(self):
        raw = {
            k: v for k, v in answers("risk").items() if not k.startswith("incidents")
        }
        raw["incidents-TOTAL_FORMS"] = ["0"]
        assert section_errors("risk", raw) == ["Add at least 1 incident"]

    def test_an_incident_needs_a_date_and_what_happened(self):
        assert errors_of(IncidentForm, {}) == {
            "date": ["Enter the date of the incident"],
            "description": ["Enter what happened"],
        }

    def test_an_incident_cannot_be_in_the_future(self):
        soon = timezone.localdate() + timedelta(days=2)
        data = {
            "description": "Shouting",
            **date_parts("date", soon.day, soon.month, soon.year),
        }
        assert errors_of(IncidentForm, data) == {
            "date": ["Date of the incident must be today or in the past"]
        }


class TestActions:
    def test_every_required_question_says_what_to_answer(self):
        assert errors_of(ActionsForm, {}) == {
            "actions": ["Enter what has been done so far"],
            "victim_wants": ["Enter what the victim wants to happen"],
        }

    def test_agencies_are_optional(self):
        data = _flat(answers("actions", agencies=None))
        assert errors_of(ActionsForm, data) == {}

    def test_too_long_an_answer_says_the_limit(self):
        data = _flat(answers("actions", actions="x" * 5001))
        assert errors_of(ActionsForm, data) == {
            "actions": ["Your answer must be 5,000 characters or fewer"]
        }


class TestConsent:
    def valid(self, **changes):
        data = {
            "person_aware": "yes",
            "consent": "obtained",
            "article_6": "public_task",
            "special_conditions": ["art9_substantial_public_interest"],
        }
        data.update(changes)
        return data

    def test_a_complete_page_is_valid(self):
        assert errors_of(ConsentForm, self.valid()) == {}

    def test_every_question_says_what_to_answer(self):
        assert errors_of(ConsentForm, {}) == {
            "person_aware": ["Select yes if the person knows about the referral"],
            "consent": ["Select whether they consented"],
            "article_6": ["Select the Article 6 lawful basis"],
            "special_conditions": [
                "Select the Article 9 or 10 conditions, or none if there is no "
                "special category or criminal offence data"
            ],
        }

    @pytest.mark.parametrize("consent", ["unsafe", "refused", "lacks_capacity"])
    def test_sharing_without_consent_must_be_justified(self, consent):
        assert errors_of(ConsentForm, self.valid(consent=consent)) == {
            "justification": ["Enter why it is right to share without consent"]
        }
        justified = self.valid(consent=consent, justification="To prevent harm.")
        assert errors_of(ConsentForm, justified) == {}

    def test_a_justification_too_long_gets_one_message(self):
        data = self.valid(consent="refused", justification="x" * 5001)
        (message,) = errors_of(ConsentForm, data)["justification"]
        assert "5,000" in message

    @pytest.mark.parametrize("consent", ["unsafe", "refused", "lacks_capacity"])
    def test_consent_is_no_lawful_basis_without_consent(self, consent):
        data = self.valid(
            consent=consent, justification="To prevent harm.", article_6="consent"
        )
        assert errors_of(ConsentForm, data) == {
            "article_6": [
                "Consent cannot be the lawful basis when the person did not consent"
            ]
        }

    def test_consent_is_a_lawful_basis_when_given(self):
        assert errors_of(ConsentForm, self.valid(article_6="consent")) == {}

    def test_none_cannot_go_with_other_conditions(self):
        data = self.valid(special_conditions=["none", "art10_criminal_offence"])
        assert errors_of(ConsentForm, data) == {
            "special_conditions": [
                "Select none on its own, or the conditions that apply"
            ]
        }
        assert errors_of(ConsentForm, self.valid(special_conditions=["none"])) == {}


class _DateForm(forms.Form):
    when = DateField(noun="Date of birth", past=True, required=False)


class TestDates:
    def error(self, day, month, year):
        return errors_of(_DateForm, date_parts("when", day, month, year)).get("when")

    @pytest.mark.parametrize(
        ("parts", "message"),
        [
            (("4", "", "1970"), "Date of birth must include a month"),
            (("", "7", "1970"), "Date of birth must include a day"),
            (("4", "7", ""), "Date of birth must include a year"),
            (("", "", "1970"), "Date of birth must include a day and month"),
            (("31", "2", "2020"), "Date of birth must be a real date"),
            (("0", "1", "2020"), "Date of birth must be a real date"),
            (("1", "13", "2020"), "Date of birth must be a real date"),
            (("1st", "May", "2020"), "Date of birth must be a real date, in numbers"),
            (("1", "2", "1899"), "Date of birth must be after 1900"),
        ],
    )
    def test_a_wrong_date_says_what_to_fix(self, parts, message):
        assert self.error(*parts) == [message]

    def test_a_two_digit_year_asks_for_four(self):
        year = timezone.localdate().year
        assert self.error("4", "7", "70") == [
            f"Year must include 4 numbers, for example {year}"
        ]

    def test_a_future_date_of_birth_is_refused(self):
        tomorrow = timezone.localdate() + timedelta(days=1)
        assert self.error(tomorrow.day, tomorrow.month, tomorrow.year) == [
            "Date of birth must be today or in the past"
        ]

    def test_today_is_in_the_past(self):
        today = timezone.localdate()
        assert self.error(today.day, today.month, today.year) is None

    def test_a_real_date_with_spaces_and_leading_zeros(self):
        form = _DateForm(date_parts("when", " 04", "07 ", "1970"))
        assert form.is_valid()
        assert form.cleaned_data["when"] == date(1970, 7, 4)

    def test_an_empty_optional_date_is_none(self):
        form = _DateForm(date_parts("when"))
        assert form.is_valid()
        assert form.cleaned_data["when"] is None


class _ContactForm(forms.Form):
    phone = PhoneField(required=False)
    postcode = PostcodeField(required=False)


class TestPhoneNumbersAndPostcodes:
    @pytest.mark.parametrize(
        "number",
        [
            "01632 960 001",
            "07700 900 982",
            "07700900982",
            "+44 808 157 0192",
            "+44 (0)20 7946 0001",
            "0044 20 7946 0001",
            "(020) 7946-0001",
            "020.7946.0001",
        ],
    )
    def test_uk_numbers_are_accepted_as_typed(self, number):
        form = _ContactForm({"phone": f" {number} "})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["phone"] == number

    @pytest.mark.parametrize(
        "number",
        ["12345", "07700 900", "07700 900 982 1234", "+1 212 555 0100", "call me"],
    )
    def test_other_numbers_say_how_to_write_a_uk_one(self, number):
        assert errors_of(_ContactForm, {"phone": number}) == {
            "phone": [
                "Enter a UK phone number, like 01632 960 001, 07700 900 982 or "
                "+44 808 157 0192"
            ]
        }

    @pytest.mark.parametrize(
        ("typed", "kept"),
        [
            ("n11xa", "N1 1XA"),
            ("N1 1XA", "N1 1XA"),
            ("sw1a2aa", "SW1A 2AA"),
            (" ec1a 1bb ", "EC1A 1BB"),
            ("M11AE", "M1 1AE"),
            ("cr26xh", "CR2 6XH"),
        ],
    )
    def test_postcodes_are_kept_in_capitals_with_one_space(self, typed, kept):
        form = _ContactForm({"postcode": typed})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["postcode"] == kept

    @pytest.mark.parametrize("typed", ["N1", "12345", "N1 1X", "SW1A 2AAA", "N1-1XA"])
    def test_a_part_postcode_asks_for_a_full_one(self, typed):
        assert errors_of(_ContactForm, {"postcode": typed}) == {
            "postcode": ["Enter a full UK postcode, like AA3 1AB"]
        }

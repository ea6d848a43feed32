"""Referral drafts and referrals, built through the services like a referrer would."""

import copy
from datetime import timedelta

from django import forms
from django.utils import timezone

from accounts.models import Role
from referrals.forms import SECTIONS, SECTIONS_BY_SLUG
from referrals.models import ReferralDraft, ReferralShare, ShareReason
from referrals.services import draft_save, draft_start, referral_submit

from . import UserFactory


def _date(prefix: str, day: int, month: int, year: int) -> dict:
    return {f"{prefix}_0": [str(day)], f"{prefix}_1": [str(month)],
            f"{prefix}_2": [str(year)]}  # fmt: skip


def person(index: int, *, role="victim", name="Alex Example", born=(4, 7, 1970),
           **extra) -> dict:  # fmt: skip
    """One person's raw form data at position ``index`` of the people list."""
    p = f"people-{index}-"
    data = {
        f"{p}role": [role],
        f"{p}full_name": [name],
        f"{p}gender": ["Female"],
        f"{p}address": ["Flat 3, 12 Example Road"],
        f"{p}postcode": ["N1 1XA"],
        f"{p}tenure": ["council"],
        f"{p}landlord": ["Example Homes"],
        f"{p}phone": ["07700 900 982"],
        f"{p}contact_times": ["Weekday mornings"],
        f"{p}leave_message": ["no"],
        f"{p}language": ["English"],
        f"{p}interpreter": ["no"],
        f"{p}gp": ["Example Road Surgery"],
        f"{p}fears": ["The neighbour at number 14"],
        f"{p}safe_contacts": ["Her daughter"],
    }
    if born:
        data.update(_date(f"{p}date_of_birth", *born))
    for key, value in extra.items():
        data[f"{p}{key}"] = value if isinstance(value, list) else [value]
    return data


def complete_answers(*, people=None, urgent=False, do_not_disclose=False,
                     anonymous_source=False) -> dict:  # fmt: skip
    """Raw data for every section, each one complete and valid."""
    people = people or [person(0)]
    people_raw = {"people-TOTAL_FORMS": [str(len(people))],
                  "people-INITIAL_FORMS": ["0"]}  # fmt: skip
    for item in people:
        people_raw.update(item)
    consent = {
        "person_aware": ["yes"],
        "consent": ["obtained"],
        "article_6": ["public_task"],
        "special_conditions": ["art9_substantial_public_interest"],
        "section_115": ["on"],
    }
    if do_not_disclose:
        consent["do_not_disclose"] = ["on"]
    if anonymous_source:
        consent["anonymous_source"] = ["on"]
    return copy.deepcopy(
        {
            "eligibility": {
                "vulnerable": ["victim"],
                "escalating": ["yes"],
                "multi_agency_reason": ["Housing and police warnings have not helped."],
                "other_panel": ["none"],
                "urgent": ["yes" if urgent else "no"],
                "urgency_reason": ["Threats made this week."] if urgent else [""],
            },
            "referrer": {
                "name": ["Sam Referrer"],
                "job_title": ["ASB officer"],
                "email": ["sam@example.org"],
                "phone": ["020 7946 0001"],
                "line_manager_aware": ["yes"],
                "presenter": ["Sam Referrer, ASB officer"],
            },
            "referral-type": {"kind": ["new"]},
            "people": people_raw,
            "household": {"members-TOTAL_FORMS": ["0"], "children-TOTAL_FORMS": ["0"]},
            "risk": {
                "asb_types": ["noise", "criminal_damage"],
                "escalation": ["From noise to damage to her door."],
                "impact": ["She no longer leaves the flat after dark."],
                "mental_health": ["Anxiety, treated by her GP."],
                "risk_level": ["high"],
                "incidents-TOTAL_FORMS": ["1"],
                **_date("incidents-0-date", 14, 10, 2026),
                "incidents-0-description": ["Front door kicked in the night."],
                "incidents-0-reference": ["CAD 1234"],
            },
            "actions": {
                "agencies": ["police", "housing"],
                "actions": ["Warning letter in August; no change."],
                "victim_wants": ["To feel safe at home."],
            },
            "consent": consent,
        }
    )


def several_choices(form_field) -> list[str]:
    """Two options of a multi-choice question: the last two, which leaves out
    the "none" that some lists start with and cannot be ticked with others."""
    return [str(value) for value, _label in form_field.choices][-2:]


def multi_choice_fields(form_class) -> list[str]:
    """The names of a form's "select all that apply" questions."""
    return [
        name
        for name, form_field in form_class.base_fields.items()
        if isinstance(form_field, forms.MultipleChoiceField)
    ]


def full_answers() -> dict:
    """Raw data for every section with every question answered: each list has
    two items, each multi-choice question (found from the forms, so a new one
    is included) two options ticked."""
    answers = complete_answers(
        people=[
            person(0, alias="Lexi", age="56", disability="Uses a wheelchair",
                   ethnicity="White British"),
            person(1, role="causing_harm", name="Jo Bloggs", born=(2, 2, 1990),
                   alias="JB", age="34", disability="None known",
                   ethnicity="Not known", interpreter="yes", leave_message="yes"),
        ],
        do_not_disclose=True,
        anonymous_source=True,
    )  # fmt: skip
    answers["eligibility"].update(
        {"urgent": ["yes"], "urgency_reason": ["Threats made this week."]}
    )
    answers["referral-type"] = {
        "kind": ["repeat"],
        **_date("last_cmarac_date", 27, 3, 2026),
        "referred_elsewhere": ["Housing panel, May 2026: no action."],
        "police_reference": ["CAD 4321"],
        "agency_references": ["HSG-889"],
    }
    answers["household"] = {
        "members-TOTAL_FORMS": ["2"], "members-INITIAL_FORMS": ["0"],
        "members-0-name": ["Pat Example"], "members-0-relationship": ["Partner"],
        "members-0-age": ["58"],
        "members-1-name": ["Lee Example"], "members-1-relationship": ["Lodger"],
        "members-1-age": ["0"],
        "children-TOTAL_FORMS": ["2"], "children-INITIAL_FORMS": ["0"],
        "children-0-name": ["Rowan Example"],
        **_date("children-0-date_of_birth", 12, 9, 2015),
        "children-0-school": ["Example Primary"], "children-0-relationship": ["Son"],
        "children-1-name": ["Ash Example"],
        **_date("children-1-date_of_birth", 1, 1, 2020),
        "children-1-school": ["Little Acorns Nursery"],
        "children-1-relationship": ["Daughter"],
    }  # fmt: skip
    answers["risk"].update(
        {
            "asb_other": ["Graffiti on the door"],
            "personal_vulnerabilities": ["Aged 56, lives alone."],
            "situational_vulnerabilities": ["Ground-floor flat by the stairs."],
            "incidental_vulnerabilities": ["Lost her job in June."],
            "physical_health": ["Arthritis."],
            "substance_use": ["None known."],
            "enforcement": ["Community protection warning, July 2026."],
            "incidents-TOTAL_FORMS": ["2"],
            **_date("incidents-1-date", 2, 11, 2026),
            "incidents-1-description": ["Shouting at the window at 2am."],
            "incidents-1-reference": ["CAD 5678"],
        }
    )
    answers["consent"].update(
        {"consent": ["unsafe"], "justification": ["Asking would raise the risk."]}
    )
    for section in SECTIONS:
        for name in multi_choice_fields(section.form_class):
            answers[section.slug][name] = several_choices(
                section.form_class.base_fields[name]
            )
    return answers


# Fields that are about the page, not answers: left out of comparisons.
_PAGE_ONLY = ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")


def answers_in(raw: dict) -> dict:
    """The answers a person gave, without blanks and the lists' bookkeeping."""
    return {
        name: values
        for name, values in raw.items()
        if not name.endswith(_PAGE_ONLY) and any(value != "" for value in values)
    }


def complete_draft(user, answers: dict | None = None) -> ReferralDraft:
    """A draft by ``user`` with every section saved."""
    draft = draft_start(user=user)
    for slug, raw in (answers or complete_answers()).items():
        draft_save(draft=draft, section=SECTIONS_BY_SLUG[slug], raw=raw, user=user)
    return draft


def submitted_referral(user=None, **answer_options):
    """A submitted referral; ``user`` defaults to a new referrer."""
    user = user or UserFactory(roles=[Role.REFERRER])
    draft = complete_draft(user, complete_answers(**answer_options))
    referral, _ = referral_submit(draft=draft, user=user)
    return referral


def share(referral, organisation, reason=ShareReason.INFORMATION, **fields):
    """A share in force for the standard period, written directly (tests of
    who sees what); ``referral_share_grant`` is the service the app uses."""
    fields.setdefault("ends_at", timezone.now() + timedelta(days=90))
    return ReferralShare.objects.create(
        referral=referral, organisation=organisation, reason=reason, **fields
    )

"""Demo referrals: nine made-up cases from different agencies, moved through
the screening workflow by the demo coordinator (one withdrawn by its referring
agency, one accepted case with case notes), and one unfinished draft.

Everything goes through the services a referrer and a coordinator use, so the
demo obeys the real rules. Only the timestamps are moved afterwards, so the
cases look as if they arrived over the past months rather than in one second.

Every person, address and number is invented: surnames built on "sample",
"example" and "test", postcodes in the N1 1XA style, Ofcom's drama phone
numbers (https://www.ofcom.org.uk/phones-and-broadband/phone-numbers/numbers-for-drama)
and example.org email addresses.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import F
from django.utils import timezone

from accounts.models import Organisation, User

from .forms import SECTIONS_BY_SLUG
from .models import (
    FreeTextReviewKind,
    Referral,
    ReferralDraft,
    ShareReason,
    Status,
)
from .redaction import needs_free_text_review
from .repeats import repeat_flags_set
from .services import (
    case_note_add,
    draft_save,
    draft_start,
    free_text_review_record,
    information_provide,
    referral_share_grant,
    referral_submit,
    referral_transition,
    referral_withdraw,
    sharing_without_consent_approve,
)

SHARE_REASON = ShareReason.INFORMATION


# Raw form data, as a browser would post it -----------------------------------


def _fields(prefix: str = "", **values) -> dict[str, list[str]]:
    """Form data for ``values``: dates as three boxes, ticks as "on"."""
    raw = {}
    for name, value in values.items():
        key = f"{prefix}{name}"
        if value is None or value is False or value == "":
            continue
        if isinstance(value, date):
            raw[f"{key}_0"] = [str(value.day)]
            raw[f"{key}_1"] = [str(value.month)]
            raw[f"{key}_2"] = [str(value.year)]
        elif isinstance(value, list | tuple):
            raw[key] = [str(item) for item in value]
        elif value is True:
            raw[key] = ["on"]
        else:
            raw[key] = [str(value)]
    return raw


def _items(prefix: str, items: list[dict]) -> dict[str, list[str]]:
    """Form data for a repeatable list (a formset)."""
    raw = {
        f"{prefix}-TOTAL_FORMS": [str(len(items))],
        f"{prefix}-INITIAL_FORMS": ["0"],
    }
    for index, item in enumerate(items):
        raw.update(_fields(f"{prefix}-{index}-", **item))
    return raw


def _incident(on: date, days_before: int, description: str, reference="") -> dict:
    return {
        "date": on - timedelta(days=days_before),
        "description": description,
        "reference": reference,
    }


def _referrer(user: User, phone: str) -> dict:
    name = user.get_full_name()
    return _fields(
        name=name,
        job_title=user.job_title or "Caseworker",
        email=user.email,
        phone=phone,
        line_manager_aware="yes",
        presenter=f"{name}, {user.job_title or 'Caseworker'}",
    )


# The cases ----------------------------------------------------------------------
# Each builds raw answers for the day it was submitted (``on``), so incident
# dates stay in the past whenever the demo is loaded.


def _mental_health_first(on: date) -> dict:
    return {
        "eligibility": _fields(
            vulnerable=["victim"],
            escalating="yes",
            multi_agency_reason=(
                "Our care coordinator cannot stop the visitors on her own. Housing, "
                "police and the fire brigade each hold part of the picture."
            ),
            other_panel="none",
            urgent="no",
        ),
        "referral-type": _fields(kind="new", police_reference="CAD 2210"),
        "people": _items(
            "people",
            [
                {
                    "role": "victim",
                    "full_name": "Martin Proofield",
                    "date_of_birth": date(1959, 8, 12),
                    "gender": "Male",
                    "address": "Flat 4, Sampleton Court, 2 Example Road",
                    "postcode": "N1 1XA",
                    "tenure": "council",
                    "landlord": "Homes for the Borough",
                    "phone": "07700 900 101",
                    "contact_times": "Afternoons, after his medication",
                    "leave_message": "no",
                    "language": "English",
                    "interpreter": "no",
                    "gp": "Example Road Surgery",
                    "fears": "Two men who visit him, names not known",
                    "safe_contacts": "His care coordinator at the mental health team",
                }
            ],
        ),
        "household": _items("members", []) | _items("children", []),
        "risk": {
            **_fields(
                asb_types=["exploitation"],
                escalation=(
                    "Two men started visiting two months ago. They now stay for days, "
                    "take his bank card and bring others to the flat."
                ),
                impact=(
                    "He has missed two depot injections and says he is frightened "
                    "to go home."
                ),
                personal_vulnerabilities="Schizophrenia; lives alone.",
                situational_vulnerabilities="Ground-floor flat near the station.",
                mental_health="Schizophrenia, under the community mental health team.",
                physical_health="Type 2 diabetes.",
                substance_use="None known.",
                enforcement="None yet.",
                risk_level="medium",
            ),
            **_items(
                "incidents",
                [
                    _incident(
                        on,
                        21,
                        "Neighbours reported a fight in the flat at 2am.",
                        "CAD 2210",
                    ),
                    _incident(
                        on,
                        6,
                        "He came to his appointment with a cut to his face "
                        "and no money for food.",
                    ),
                ],
            ),
        },
        "actions": _fields(
            agencies=["mental_health", "housing"],
            actions=(
                "Care coordinator visits weekly. Housing changed the locks last "
                "month; the visitors were back within a week."
            ),
            victim_wants="For the men to stop coming and to feel safe in his flat.",
        ),
        "consent": _fields(
            person_aware="yes",
            consent="obtained",
            article_6="public_task",
            special_conditions=["art9_health_social_care", "art10_criminal_offence"],
            section_115=True,
        ),
    }


def _mental_health_repeat(on: date) -> dict:
    """What the referrer changes on a draft pre-filled from the first referral."""
    return {
        "eligibility": _fields(
            vulnerable=["victim"],
            escalating="yes",
            multi_agency_reason=(
                "The visitors are back since the case closed, and now there are "
                "more of them. The actions agreed last time need to be looked at "
                "again together."
            ),
            other_panel="none",
            urgent="no",
        ),
        "referral-type": _fields(
            kind="repeat",
            last_cmarac_date=on - timedelta(days=110),
            police_reference="CAD 3307",
        ),
        "risk": {
            **_fields(
                asb_types=["exploitation", "cuckooing"],
                escalation=(
                    "The same two men came back last month with others. They have "
                    "a key and use the flat when he is out."
                ),
                impact="He sleeps on his sister's sofa most nights.",
                personal_vulnerabilities="Schizophrenia; lives alone.",
                mental_health="Relapse signs noted by his care coordinator.",
                physical_health="Type 2 diabetes.",
                enforcement="Police warning to one of the men last month.",
                risk_level="high",
            ),
            **_items(
                "incidents",
                [
                    _incident(
                        on,
                        16,
                        "Police found four people in the flat while he "
                        "was at his sister's.",
                        "CAD 3307",
                    ),
                ],
            ),
        },
        "consent": _fields(
            person_aware="yes",
            consent="obtained",
            article_6="public_task",
            special_conditions=["art9_health_social_care", "art10_criminal_offence"],
            section_115=True,
        ),
    }


def _housing_hate(on: date) -> dict:
    return {
        "eligibility": _fields(
            vulnerable=["victim"],
            escalating="yes",
            multi_agency_reason=(
                "A warning letter and a visit from the neighbourhood officer have "
                "not stopped it. The family needs police, housing and Victim "
                "Support working together."
            ),
            other_panel="none",
            urgent="no",
        ),
        "referral-type": _fields(
            kind="new",
            police_reference="CRIS 0103456",
            agency_references="HftB tenancy T-0042",
        ),
        "people": _items(
            "people",
            [
                {
                    "role": "victim",
                    "full_name": "Amina Exampleby",
                    "date_of_birth": date(1986, 2, 17),
                    "gender": "Female",
                    "address": "Flat 12, Testwood House, Sample Estate",
                    "postcode": "N1 2XB",
                    "tenure": "housing_association",
                    "landlord": "Homes for the Borough",
                    "phone": "07700 900 214",
                    "contact_times": "School hours",
                    "leave_message": "yes",
                    "language": "Somali",
                    "interpreter": "yes",
                    "ethnicity": "Black British Somali",
                    "gp": "Sample Estate Health Centre",
                    "fears": "The man in Flat 14",
                    "safe_contacts": "Her husband",
                },
                {
                    "role": "causing_harm",
                    "full_name": "Gary Testwood",
                    "date_of_birth": date(1971, 11, 3),
                    "gender": "Male",
                    "address": "Flat 14, Testwood House, Sample Estate",
                    "postcode": "N1 2XB",
                    "tenure": "housing_association",
                    "landlord": "Homes for the Borough",
                },
            ],
        ),
        "household": _items(
            "members",
            [{"name": "Hassan Exampleby", "relationship": "Husband", "age": 41}],
        )
        | _items("children", []),
        "risk": {
            **_fields(
                asb_types=["hate", "criminal_damage"],
                escalation=(
                    "Started with comments on the stairs. For the past "
                    "two months there has been graffiti on her door and rubbish "
                    "pushed through the letterbox."
                ),
                impact=(
                    "She no longer uses the lift or the stairs alone and has asked "
                    "to move."
                ),
                situational_vulnerabilities="Lives two doors from the man she fears.",
                enforcement="Warning letter from Homes for the Borough last month.",
                risk_level="high",
            ),
            **_items(
                "incidents",
                [
                    _incident(
                        on,
                        45,
                        "Shouted racist abuse at her on the stairs.",
                        "CAD 1187",
                    ),
                    _incident(
                        on,
                        20,
                        "Racist graffiti painted on her front door.",
                        "CRIS 0103456",
                    ),
                    _incident(on, 4, "Rubbish pushed through her letterbox."),
                ],
            ),
        },
        "actions": _fields(
            agencies=["housing", "police"],
            actions=(
                "Warning letter to Flat 14; graffiti removed the next day; police "
                "took a statement. The abuse carried on."
            ),
            victim_wants="To move somewhere safe, or for the abuse to stop.",
        ),
        "consent": _fields(
            person_aware="yes",
            consent="obtained",
            article_6="public_task",
            special_conditions=[
                "art9_substantial_public_interest",
                "art10_criminal_offence",
            ],
            section_115=True,
            do_not_disclose=True,
        ),
    }


def _noise_neighbours(on: date) -> dict:
    return {
        "eligibility": _fields(
            vulnerable=["victim"],
            escalating="yes",
            multi_agency_reason=(
                "Our noise abatement notice has not stopped the parties, and the "
                "victim is elderly and now frightened of her neighbour."
            ),
            other_panel="none",
            urgent="no",
        ),
        "referral-type": _fields(kind="new", agency_references="NOISE 0815"),
        "people": _items(
            "people",
            [
                {
                    "role": "victim",
                    "full_name": "Margaret Demoford",
                    "date_of_birth": date(1944, 5, 30),
                    "gender": "Female",
                    "address": "3 Placeholder Gardens",
                    "postcode": "N7 9XZ",
                    "tenure": "owner",
                    "phone": "020 7946 0311",
                    "contact_times": "Any time in the day",
                    "leave_message": "yes",
                    "language": "English",
                    "interpreter": "no",
                    "disability": "Hearing loss; uses a hearing aid.",
                    "gp": "Placeholder Gardens Practice",
                    "fears": "The man next door",
                    "safe_contacts": "Her son",
                },
                {
                    "role": "causing_harm",
                    "full_name": "Lee Placeford",
                    "date_of_birth": date(1994, 9, 9),
                    "gender": "Male",
                    "address": "5 Placeholder Gardens",
                    "postcode": "N7 9XZ",
                    "tenure": "private",
                },
                {
                    "role": "witness",
                    "full_name": "Jo Testbury",
                    "age": 52,
                    "address": "7 Placeholder Gardens",
                    "postcode": "N7 9XZ",
                    "phone": "07700 900 377",
                },
            ],
        ),
        "household": _items("members", []) | _items("children", []),
        "risk": {
            **_fields(
                asb_types=["noise", "neighbour_dispute"],
                escalation=(
                    "Loud music most weekends for six months. When she knocked "
                    "to complain he swore at her and banged on her wall."
                ),
                impact="She sleeps in her front room and has stopped going out.",
                personal_vulnerabilities="Aged 82, lives alone.",
                enforcement="Noise abatement notice served two months ago.",
                risk_level="medium",
            ),
            **_items(
                "incidents",
                [
                    _incident(
                        on,
                        30,
                        "Music until 4am; officers witnessed it from her front room.",
                        "NOISE 0815",
                    ),
                    _incident(
                        on,
                        9,
                        "Banged on her wall and shouted at her through the "
                        "letterbox. Seen by a neighbour.",
                    ),
                ],
            ),
        },
        "actions": _fields(
            agencies=["out_of_hours", "local_authority"],
            actions="Two warning letters and a noise abatement notice.",
            victim_wants="To be able to sleep in her own bedroom again.",
        ),
        "consent": _fields(
            person_aware="yes",
            consent="obtained",
            article_6="public_task",
            special_conditions=["art9_substantial_public_interest"],
            section_115=True,
            anonymous_source=True,
        ),
    }


def _victim_support_ex_partner(on: date) -> dict:
    return {
        "eligibility": _fields(
            vulnerable=["victim"],
            escalating="yes",
            multi_agency_reason=(
                "The damage to her car and the following need police and housing "
                "as well as our support."
            ),
            other_panel="none",
            urgent="no",
        ),
        "referral-type": _fields(kind="new", police_reference="CAD 2961"),
        "people": _items(
            "people",
            [
                {
                    "role": "victim",
                    "full_name": "Sophie Trialwell",
                    "date_of_birth": date(1990, 4, 21),
                    "gender": "Female",
                    "address": "22 Specimen Lane",
                    "postcode": "N4 3XQ",
                    "tenure": "private",
                    "phone": "07700 900 455",
                    "contact_times": "Evenings",
                    "leave_message": "no",
                    "fears": "Her former partner",
                    "safe_contacts": "Her Victim Support caseworker",
                },
                {
                    "role": "causing_harm",
                    "full_name": "Dean Mockby",
                    "date_of_birth": date(1987, 1, 8),
                    "gender": "Male",
                },
            ],
        ),
        "household": _items("members", []) | _items("children", []),
        "risk": {
            **_fields(
                asb_types=["criminal_damage", "other"],
                asb_other="Following her and watching her home",
                escalation=(
                    "Her former partner has scratched her car twice and waits "
                    "outside her work."
                ),
                impact="She has taken sick leave and changed her route to work.",
                risk_level="high",
            ),
            **_items(
                "incidents",
                [
                    _incident(on, 25, "Car scratched outside her home.", "CAD 2961"),
                    _incident(on, 3, "Waited outside her work and followed her."),
                ],
            ),
        },
        "actions": _fields(
            agencies=["victim_support", "police"],
            actions="Weekly support sessions; police have her statement.",
            victim_wants="For him to leave her alone.",
        ),
        "consent": _fields(
            person_aware="yes",
            consent="obtained",
            article_6="public_task",
            special_conditions=["art10_criminal_offence"],
            section_115=True,
        ),
    }


def _police_cuckooing(on: date) -> dict:
    return {
        "eligibility": _fields(
            vulnerable=["victim"],
            escalating="yes",
            multi_agency_reason=(
                "Two warrants have not stopped the dealing. He needs a safe place, "
                "support from adult social care and a closure order considered."
            ),
            other_panel="none",
            urgent="yes",
            urgency_reason=(
                "Dealers are in the flat every day and one has threatened him with "
                "a knife. He could be seriously hurt before the next meeting."
            ),
        ),
        "referral-type": _fields(kind="new", police_reference="CAD 3150; CRIS 0104877"),
        "people": _items(
            "people",
            [
                {
                    "role": "victim",
                    "full_name": "Dennis Sampleton",
                    "date_of_birth": date(1967, 3, 3),
                    "gender": "Male",
                    "address": "Flat 9, Example Tower, Test Street",
                    "postcode": "N1 7XD",
                    "tenure": "council",
                    "landlord": "Borough Council",
                    "phone": "07700 900 512",
                    "contact_times": "Only through his support worker",
                    "leave_message": "no",
                    "language": "English",
                    "interpreter": "no",
                    "disability": "Learning disability.",
                    "gp": "Test Street Medical Centre",
                    "fears": "The men using his flat",
                    "safe_contacts": "His support worker at the recovery service",
                },
                {
                    "role": "causing_harm",
                    "full_name": "Jordan Mockridge",
                    "alias": "JJ",
                    "age": 23,
                    "gender": "Male",
                    "tenure": "not_known",
                },
            ],
        ),
        "household": _items(
            "members",
            [
                # The noise case's victim: the person index finds her here too.
                {
                    "name": "Margaret Demoford",
                    "relationship": "Mother; stays with him some weekends",
                    "age": 82,
                }
            ],
        )
        | _items("children", []),
        "risk": {
            **_fields(
                asb_types=["cuckooing", "exploitation"],
                escalation=(
                    "A group from outside the borough moved into his flat "
                    "last month. Neighbours report visitors day and night; last week "
                    "one of them showed him a knife."
                ),
                impact=(
                    "He sleeps in the stairwell or at a day centre and has lost weight."
                ),
                personal_vulnerabilities="Learning disability; no family nearby.",
                situational_vulnerabilities="Flat known to local dealers.",
                substance_use="Cannabis, supplied by the people in his flat.",
                enforcement="Two drugs warrants; a partial closure order is being "
                "prepared.",
                risk_level="high",
            ),
            **_items(
                "incidents",
                [
                    _incident(
                        on,
                        20,
                        "Drugs warrant: three people arrested in the flat.",
                        "CAD 3150",
                    ),
                    _incident(
                        on,
                        2,
                        "Threatened with a knife when he asked them to leave.",
                        "CRIS 0104877",
                    ),
                ],
            ),
        },
        "actions": _fields(
            agencies=["police", "local_authority", "substance_use"],
            actions=(
                "Two warrants in the past month; safeguarding alert raised with "
                "adult social care; recovery service support worker allocated."
            ),
            victim_wants="To have his flat back and the men kept away.",
        ),
        "consent": _fields(
            person_aware="no",
            consent="unsafe",
            justification=(
                "Asking him while the men are in the flat could put him in danger. "
                "Sharing now lets partners act before he is hurt."
            ),
            article_6="vital_interests",
            special_conditions=["art9_vital_interests", "art10_criminal_offence"],
            section_115=True,
        ),
    }


def _council_children(on: date) -> dict:
    return {
        "eligibility": _fields(
            vulnerable=["victim"],
            escalating="yes",
            multi_agency_reason=(
                "The family has been targeted for a year. The school, housing and "
                "police all know part of it but nobody has the whole picture."
            ),
            other_panel="none",
            urgent="no",
        ),
        "referral-type": _fields(kind="new", agency_references="ASB 1290"),
        "people": _items(
            "people",
            [
                {
                    "role": "victim",
                    "full_name": "Kerry Specimen",
                    "date_of_birth": date(1991, 10, 14),
                    "gender": "Female",
                    "address": "41 Sample Walk",
                    "postcode": "N9 8XE",
                    "tenure": "council",
                    "landlord": "Borough Council",
                    "phone": "07700 900 638",
                    "contact_times": "Weekday mornings",
                    "leave_message": "yes",
                    "language": "English",
                    "interpreter": "no",
                    "gp": "Sample Walk Surgery",
                    "fears": "A group of teenagers from the estate",
                    "safe_contacts": "Her mother",
                },
                {
                    "role": "causing_harm",
                    "full_name": "Reece Dummond",
                    "age": 17,
                    "gender": "Male",
                    "address": "Sample Walk estate, exact address not known",
                    "postcode": "N9 8XE",
                    "tenure": "not_known",
                },
            ],
        ),
        "household": _items(
            "members", [{"name": "Paul Specimen", "relationship": "Partner"}]
        )
        | _items(
            "children",
            [
                {
                    "name": "Tyler Specimen",
                    "date_of_birth": date(2015, 6, 2),
                    "school": "Example Primary School",
                    "relationship": "Son",
                },
                {
                    "name": "Ruby Specimen",
                    "date_of_birth": date(2020, 1, 19),
                    "school": "Little Samples Nursery",
                    "relationship": "Daughter",
                },
            ],
        ),
        "risk": {
            **_fields(
                asb_types=["criminal_damage", "other"],
                asb_other="Groups gathering outside the home to intimidate the family",
                escalation=(
                    "Name-calling at first; for three months, eggs and stones thrown "
                    "at the windows and a firework put through the letterbox."
                ),
                impact=(
                    "Tyler will not walk to school and Ruby wakes at night. Kerry "
                    "has been prescribed medication for anxiety."
                ),
                situational_vulnerabilities="Ground-floor home facing the green "
                "where the group gathers.",
                mental_health="Anxiety, treated by her GP.",
                enforcement="Acceptable behaviour contract with one young person.",
                risk_level="high",
            ),
            **_items(
                "incidents",
                [
                    _incident(
                        on, 40, "Stones thrown, front window broken.", "CAD 1622"
                    ),
                    _incident(
                        on,
                        12,
                        "Lit firework pushed through the letterbox.",
                        "CAD 3488",
                    ),
                ],
            ),
        },
        "actions": _fields(
            agencies=["local_authority", "police", "housing"],
            actions=(
                "Acceptable behaviour contract three months ago; CCTV request; window "
                "repaired. The intimidation has got worse."
            ),
            victim_wants="For her children to feel safe walking to school.",
        ),
        "consent": _fields(
            person_aware="yes",
            consent="obtained",
            article_6="public_task",
            special_conditions=["art9_substantial_public_interest"],
            section_115=True,
        ),
    }


def _housing_moved_away(on: date) -> dict:
    return {
        "eligibility": _fields(
            vulnerable=["victim"],
            escalating="yes",
            multi_agency_reason=(
                "Youths gather on his landing and have started kicking his "
                "door at night; housing and the police have each acted alone."
            ),
            other_panel="none",
            urgent="no",
        ),
        "referral-type": _fields(kind="new"),
        "people": _items(
            "people",
            [
                {
                    "role": "victim",
                    "full_name": "Dennis Testridge",
                    "date_of_birth": date(1951, 3, 14),
                    "gender": "Male",
                    "address": "Flat 9, 4 Sample Court",
                    "postcode": "N17 6XB",
                    "tenure": "council",
                    "landlord": "The council",
                    "phone": "020 7946 0733",
                    "contact_times": "Mornings",
                    "leave_message": "yes",
                    "gp": "Sample Court Surgery",
                    "fears": "The group on his landing",
                    "safe_contacts": "His daughter",
                },
            ],
        ),
        "household": _items("members", []) | _items("children", []),
        "risk": {
            **_fields(
                asb_types=["criminal_damage"],
                escalation="Shouting on the landing became kicking his door.",
                impact="He no longer goes out after dark.",
                risk_level="medium",
            ),
            **_items(
                "incidents",
                [_incident(on, 5, "Door kicked repeatedly around midnight.")],
            ),
        },
        "actions": _fields(
            agencies=["housing", "police"],
            actions="Housing has offered a transfer; police patrols at night.",
            victim_wants="To live somewhere quiet.",
        ),
        "consent": _fields(
            person_aware="yes",
            consent="obtained",
            article_6="public_task",
            special_conditions=["art10_criminal_offence"],
            section_115=True,
        ),
    }


def _recovery_neighbours(on: date) -> dict:
    return {
        "eligibility": _fields(
            vulnerable=["victim", "causing_harm"],
            escalating="yes",
            multi_agency_reason=(
                "Neighbours complain about visitors to her flat, some of them "
                "harass her, and housing is considering possession. No single "
                "agency can settle it alone."
            ),
            other_panel="none",
            urgent="no",
        ),
        "referral-type": _fields(kind="new"),
        "people": _items(
            "people",
            [
                {
                    "role": "victim",
                    "full_name": "Tanya Exemplar",
                    "date_of_birth": date(1979, 12, 1),
                    "gender": "Female",
                    "address": "Flat 2, 60 Demo Road",
                    "postcode": "N15 4XF",
                    "tenure": "housing_association",
                    "landlord": "Homes for the Borough",
                    "phone": "020 7946 0482",
                    "contact_times": "At her recovery appointments",
                    "leave_message": "not_known",
                    "gp": "Demo Road Health Centre",
                    "fears": "Neighbours in the flats above",
                    "safe_contacts": "Her keyworker",
                },
            ],
        ),
        "household": _items("members", []) | _items("children", []),
        "risk": {
            **_fields(
                asb_types=["neighbour_dispute", "criminal_damage"],
                escalation=(
                    "Complaints about visitors to her flat became name-calling, "
                    "then her door was glued shut."
                ),
                impact="She has missed appointments and is using again.",
                substance_use="Heroin, in treatment on a methadone script.",
                risk_level="medium",
            ),
            **_items(
                "incidents",
                [_incident(on, 7, "Front door lock glued shut overnight.")],
            ),
        },
        "actions": _fields(
            agencies=["substance_use", "housing"],
            actions="Keyworker sessions; housing has spoken to both households.",
            victim_wants="To stay in her flat and get on with her recovery.",
        ),
        "consent": _fields(
            person_aware="yes",
            consent="obtained",
            article_6="public_task",
            special_conditions=["art9_health_social_care"],
            section_115=True,
        ),
    }


# What happens to each case ------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """A coordinator's transition, or the referrer answering (``answer``)."""

    to_status: str = ""
    reason: str = ""
    redirected_to: str = ""
    feedback: str = ""
    answer: str = ""


@dataclass(frozen=True)
class _Case:
    key: str
    agency: str  # short name of the referring organisation
    phone: str  # the referrer's work number
    answers: Callable[[date], dict]
    # When each event happened, in days before today: submitted first.
    days_ago: tuple[int, ...]
    steps: tuple[_Step, ...] = ()
    repeat_of: str = ""
    share_with: str = ""
    # The referring agency withdraws it, with this reason, before screening.
    withdraw: str = ""
    # Case notes on an accepted case: (author's username, text, coordinators only).
    notes: tuple[tuple[str, str, bool], ...] = ()


_SCREEN = _Step(Status.SCREENING)

# In the order they arrived, so references rise with the dates.
CASES = (
    _Case(
        "proofield",
        "mentalhealth",
        "020 7946 0101",
        _mental_health_first,
        days_ago=(200, 199, 193, 60),
        steps=(
            _SCREEN,
            _Step(Status.ACCEPTED),
            _Step(
                Status.CLOSED,
                reason=(
                    "All actions are done: the visitors stopped after a police "
                    "warning, housing fitted a door entry system and the fire "
                    "brigade made a safety visit."
                ),
                feedback=(
                    "Thank you for the referral. The panel closed the case: every "
                    "action is complete and the risk is now standard. Refer again "
                    "if the visitors come back."
                ),
            ),
        ),
    ),
    _Case(
        "exampleby",
        "housing",
        "020 7946 0214",
        _housing_hate,
        days_ago=(30, 29, 28, 25, 21),
        steps=(
            _SCREEN,
            _Step(
                Status.INFORMATION_REQUESTED,
                reason=(
                    "Has the family been offered a management move? Please also "
                    "send the police crime reference for the graffiti."
                ),
            ),
            _Step(
                answer=(
                    "A management move was offered last week; Mrs Exampleby "
                    "wants to wait until the end of the school term. The crime "
                    "reference is on the referral: CRIS 0103456."
                )
            ),
            _Step(Status.ACCEPTED),
        ),
        share_with="victimsupport",
    ),
    _Case(
        "demoford",
        "noise",
        "020 7946 0377",
        _noise_neighbours,
        days_ago=(20, 19, 16),
        steps=(
            _SCREEN,
            _Step(
                Status.DECLINED,
                reason=(
                    "This is a dispute between two households that single agencies "
                    "have not yet tried to settle: there has been no mediation and "
                    "no community protection warning. Please offer both households "
                    "the community mediation service, and refer again if the risk "
                    "to Mrs Demoford grows."
                ),
            ),
        ),
    ),
    _Case(
        "trialwell",
        "victimsupport",
        "020 7946 0455",
        _victim_support_ex_partner,
        days_ago=(15, 14, 13),
        steps=(
            _SCREEN,
            _Step(
                Status.REDIRECTED,
                redirected_to="Domestic abuse MARAC",
                reason=(
                    "The person causing harm is her former partner, so this is "
                    "domestic abuse. The domestic abuse MARAC is the right panel; "
                    "the coordinator has passed the referral to its coordinator."
                ),
            ),
        ),
    ),
    _Case(
        "sampleton",
        "police",
        "020 7946 0512",
        _police_cuckooing,
        days_ago=(12, 12, 11),
        steps=(_SCREEN, _Step(Status.ACCEPTED)),
        notes=(
            (
                "police.referrer",
                "Neighbourhood officers visited on Tuesday. The door has been "
                "repaired and a closure order is being prepared for the flat.",
                False,
            ),
            (
                "coordinator",
                "The police ask that the closure order date is not shared with "
                "housing staff on site until it is granted.",
                True,
            ),
        ),
    ),
    _Case(
        "testridge",
        "housing",
        "020 7946 0214",
        _housing_moved_away,
        days_ago=(9, 8),
        withdraw=(
            "Sent in error: Mr Testridge accepted a transfer out of the borough "
            "yesterday and has moved. His new landlord has our safety plan."
        ),
    ),
    _Case(
        "specimen",
        "council",
        "020 7946 0638",
        _council_children,
        days_ago=(6, 5, 4),
        steps=(
            _SCREEN,
            _Step(
                Status.INFORMATION_REQUESTED,
                reason=(
                    "Does children's social care know the family, and has the "
                    "school raised any concerns about Tyler? Please say if the "
                    "MASH is involved."
                ),
            ),
        ),
    ),
    _Case(
        "proofield-repeat",
        "mentalhealth",
        "020 7946 0101",
        _mental_health_repeat,
        days_ago=(3,),
        repeat_of="proofield",
    ),
    _Case(
        "exemplar",
        "recovery",
        "020 7946 0482",
        _recovery_neighbours,
        days_ago=(2, 1),
        steps=(_SCREEN,),
    ),
)

# The demo's referrers: if any of them has a referral, the demo is loaded.
DEMO_REFERRERS = sorted({f"{case.agency}.referrer" for case in CASES})
DRAFT_OWNER = "police.referrer"


def demo_referrals_seed() -> list[str]:
    """Create the demo referrals and draft; return the new references.

    Returns an empty list, and changes nothing, if the demo referrers have
    referrals already (from an earlier run, or from trying the portal).
    """
    if Referral.objects.filter(referrer__username__in=DEMO_REFERRERS).exists():
        return []
    coordinator = User.objects.get(username="coordinator")
    made: dict[str, Referral] = {}
    for case in CASES:
        referrer = User.objects.get(username=f"{case.agency}.referrer")
        on = _moment(case.days_ago[0]).date()
        referral = _submit(case, referrer, on, made.get(case.repeat_of))
        for step in case.steps:
            referral = _take(step, referral, coordinator, referrer)
        if case.withdraw:
            referral = referral_withdraw(
                referral=referral, user=referrer, reason=case.withdraw
            )
        for author, text, coordinators_only in case.notes:
            case_note_add(
                referral=referral,
                user=User.objects.get(username=author),
                text=text,
                coordinators_only=coordinators_only,
            )
        if case.share_with:
            referral_share_grant(
                referral=referral,
                organisation=Organisation.objects.get(slug=case.share_with),
                reason=SHARE_REASON,
                user=coordinator,
            )
        _backdate(referral, case.days_ago)
        made[case.key] = referral
    # Submitted today, then moved back: each flag again from the dates the
    # demo gives them, as if sent on those days.
    repeat_flags_set(
        referrals=Referral.objects.filter(pk__in=[r.pk for r in made.values()])
    )
    _unfinished_draft(User.objects.get(username=DRAFT_OWNER))
    return [referral.reference for referral in made.values()]


def _submit(case: _Case, referrer: User, on: date, earlier: Referral | None):
    draft = draft_start(user=referrer, from_referral=earlier)
    answers = case.answers(on)
    answers["referrer"] = _referrer(referrer, case.phone)
    for slug, raw in answers.items():
        draft_save(draft=draft, section=SECTIONS_BY_SLUG[slug], raw=raw, user=referrer)
    referral, _ = referral_submit(draft=draft, user=referrer)
    return referral


_PARTNER_SUMMARY = (
    "Repeated targeting of a vulnerable resident by people living nearby, "
    "escalating over the last three months. Warnings have not stopped it. The "
    "referrer's own account is kept by the referring agency and the "
    "coordinators, to protect the people in this case."
)


def _take(step: _Step, referral: Referral, coordinator: User, referrer: User):
    if step.answer:
        return information_provide(
            referral=referral, user=referrer, message=step.answer
        )
    if step.to_status == Status.ACCEPTED and referral.sharing_restricted:
        # The coordinator weighs the referrer's justification at screening.
        referral = sharing_without_consent_approve(
            referral=referral,
            user=coordinator,
            reason="Agreed: asking would put him at risk, and the panel needs "
            "the agencies' information to keep him safe.",
        )
    if step.to_status == Status.ACCEPTED and needs_free_text_review(referral):
        # Show the partner summary: the demo's free text mentions places.
        free_text_review_record(
            referral=referral,
            user=coordinator,
            kind=FreeTextReviewKind.SUMMARY,
            summary=_PARTNER_SUMMARY,
        )
    return referral_transition(
        referral=referral,
        to_status=step.to_status,
        user=coordinator,
        expected_status=referral.status,
        reason=step.reason,
        redirected_to=step.redirected_to,
        feedback=step.feedback,
    )


def _moment(days_ago: int, step: int = 0) -> datetime:
    """A working-hours time ``days_ago`` days back, kept inside this year so a
    reference's year (CM-2026-...) matches the date it was submitted."""
    now = timezone.localtime()
    moment = now.replace(hour=9, minute=30, second=0, microsecond=0) - timedelta(
        days=days_ago
    )
    new_year = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return max(moment, new_year) + timedelta(minutes=40 * step)


def _backdate(referral: Referral, days_ago: tuple[int, ...]) -> None:
    """Spread the referral's history over the days it describes."""
    events = list(referral.events.order_by("at", "pk"))
    if len(events) != len(days_ago):
        raise ValueError(
            f"{referral}: {len(events)} events but {len(days_ago)} dates given"
        )
    for step, (event, days) in enumerate(zip(events, days_ago, strict=True)):
        event.at = _moment(days, step)
        event.save(update_fields=["at"])
    submitted, last = events[0].at, events[-1].at
    Referral.objects.filter(pk=referral.pk).update(
        submitted_at=submitted,
        status_changed_at=last,
        closed_at=last if referral.closed_at else None,
    )
    ReferralDraft.objects.filter(referral=referral).update(
        created_at=submitted, updated_at=F("created_at")
    )


def _unfinished_draft(owner: User) -> ReferralDraft:
    """Two sections done and the people half typed, so the demo shows "continue
    your draft" and a section kept as it was left."""
    draft = draft_start(user=owner)
    sections = {
        "eligibility": _fields(
            vulnerable=["victim", "witness"],
            escalating="yes",
            multi_agency_reason=(
                "Youths on mopeds are riding through the estate and threatening "
                "residents who report them."
            ),
            other_panel="none",
            urgent="no",
        ),
        "referrer": _referrer(owner, "020 7946 0513"),
        # Name typed, date of birth not yet: saved as "in progress".
        "people": _items(
            "people",
            [{"role": "victim", "full_name": "Ola Testwick", "postcode": "N16 5XG"}],
        ),
    }
    for slug, raw in sections.items():
        draft_save(draft=draft, section=SECTIONS_BY_SLUG[slug], raw=raw, user=owner)
    return draft

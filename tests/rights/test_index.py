"""The person index finds a person wherever a referral, a meeting or a shared
file names them, in the forms people write names, dates and numbers in, and
follows the records as they change."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from documents.models import SharedFile
from meetings.models import Action
from referrals.models import Referral
from referrals.services import referral_submit
from rights.matching import PersonQuery, query_read
from rights.models import PersonMention
from rights.selectors import person_search, trigram_available
from rights.services import person_index_rebuild
from tests.factories import UserFactory
from tests.factories.documents import shared, upload
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import _date, complete_answers, complete_draft, person
from tests.factories.referrals import submitted_referral as submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.DPO])


def _household(members=(), children=()):
    raw = {
        "members-TOTAL_FORMS": [str(len(members))],
        "members-INITIAL_FORMS": ["0"],
        "children-TOTAL_FORMS": [str(len(children))],
        "children-INITIAL_FORMS": ["0"],
    }
    for index, name in enumerate(members):
        raw[f"members-{index}-name"] = [name]
        raw[f"members-{index}-relationship"] = ["Lodger"]
    for index, (name, born) in enumerate(children):
        raw[f"children-{index}-name"] = [name]
        raw[f"children-{index}-relationship"] = ["Son"]
        raw.update(_date(f"children-{index}-date_of_birth", *born))
    return raw


def _case(*, people=None, members=(), children=(), impact=None, user=None):
    answers = complete_answers(people=people)
    answers["household"] = _household(members, children)
    if impact:
        answers["risk"]["impact"] = [impact]
    user = user or UserFactory(roles=[Role.REFERRER])
    referral, _ = referral_submit(draft=complete_draft(user, answers), user=user)
    return referral


def _found(officer, text: str) -> set[str]:
    """The case references (and other group titles) a search finds."""
    result = person_search(officer, query_read(text))
    return {group.title for group in result.groups}


def _case_title(referral) -> str:
    return f"Case {referral.reference}"


class TestFindsPeople:
    def test_a_person_named_only_as_a_household_member(self, officer):
        referral = _case(members=["Quillon Featherstonehaugh"])
        other = _case()
        assert _found(officer, "Quillon Featherstonehaugh") == {_case_title(referral)}
        assert _case_title(other) not in _found(officer, "Featherstonehaugh")
        hit = person_search(officer, query_read("Featherstonehaugh")).groups[0].hits[0]
        assert hit.mention.described_as == "Household member"

    def test_a_person_named_only_as_a_child(self, officer):
        referral = _case(children=[("Marigold Umbertide", (3, 5, 2016))])
        assert _found(officer, "marigold umbertide") == {_case_title(referral)}
        assert _found(officer, "3/5/2016") == {_case_title(referral)}
        hit = person_search(officer, query_read("Umbertide")).groups[0].hits[0]
        assert hit.mention.described_as == "Child"

    def test_a_person_named_only_in_free_text(self, officer):
        referral = _case(impact="She is afraid of Barnaby Quaritch from number 9.")
        assert _found(officer, "Barnaby Quaritch") == {_case_title(referral)}
        assert _found(officer, "Quaritch, Barnaby") == {_case_title(referral)}
        hits = person_search(officer, query_read("Barnaby Quaritch")).groups[0].hits
        assert [h.matched for h in hits] == [["Name in free text"]]
        assert "impact" in hits[0].mention.field_label

    def test_by_initial_and_surname_both_ways(self, officer):
        named = _case(people=[person(0, name="Josephine Allardyce")])
        in_text = _case(impact="J Allardyce called the police twice.")
        assert _found(officer, "J Allardyce") == {
            _case_title(named),
            _case_title(in_text),
        }
        # The full name finds the record that gives only the initial.
        assert _case_title(in_text) in _found(officer, "Josephine Allardyce")
        # But not another forename with the same initial.
        jasper = _case(people=[person(0, name="Jasper Allardyce")])
        assert _case_title(jasper) not in _found(officer, "Josephine Allardyce")

    def test_by_date_of_birth_in_any_usual_form(self, officer):
        referral = _case(people=[person(0, name="Ada Example", born=(9, 4, 1961))])
        for typed in ("9/4/1961", "09-04-1961", "1961-04-09", "9 April 1961"):
            assert _found(officer, typed) == {_case_title(referral)}, typed

    def test_by_postcode_however_it_is_spaced(self, officer):
        referral = _case(people=[person(0, postcode="SW1A 2AA")])
        assert _found(officer, "sw1a2aa") == {_case_title(referral)}
        assert _found(officer, "SW1A  2AA") == {_case_title(referral)}

    def test_by_phone_in_another_format(self, officer):
        referral = _case(people=[person(0, phone="07700 900 461")])
        in_text = _case(impact="Her brother rang from +44 7700 900461 at night.")
        found = _found(officer, "+447700900461")
        assert found == {_case_title(referral), _case_title(in_text)}
        assert _found(officer, "07700-900-461") == found

    def test_nothing_for_other_people(self, officer):
        _case(
            people=[person(0, name="Ottoline Keptcase", born=(1, 1, 1970))],
            members=["Rufus Keptcase"],
            impact="Nothing about anyone else.",
        )
        assert _found(officer, "Zebedee Quartermaine") == set()
        assert _found(officer, "Z Quartermaine") == set()
        assert _found(officer, "2/2/1999") == set()
        assert _found(officer, "07700 900 000") == set()

    def test_only_the_data_protection_officer_gets_results(self):
        _case(members=["Quillon Featherstonehaugh"])
        for roles in ([Role.COORDINATOR], [Role.REFERRER], [Role.EDITOR], []):
            person_ = UserFactory(roles=roles)
            assert _found(person_, "Featherstonehaugh") == set(), roles
        admin = UserFactory(organisation=None, is_superuser=True, is_staff=True)
        assert _found(admin, "Featherstonehaugh") == set()


class TestMeetingsAndFiles:
    def test_agenda_items_actions_and_shared_files(self, officer):
        boss = coordinator()
        referral = accepted(submitted(), boss)
        upcoming = meeting(boss)
        police = UserFactory(roles=[Role.REFERRER]).organisation
        item = on_agenda(upcoming, referral, [police], boss)
        item.discussion = "Cornelius Vandersteen was at the door."
        item.save()
        # Written directly: the service needs papers issued (a PDF build).
        Action.objects.create(
            agenda_item=item, referral=referral, owner=police, officer="PC Example",
            description="Speak to Persephone Wolstencroft",
            due=timezone.localdate() + timedelta(days=7),
        )  # fmt: skip
        shared(
            referral.referrer, [], referral=referral,
            files=[upload("Statement of Horatio Fennimore.pdf")],
            note="Call Horatio on 020 7946 0451",
        )  # fmt: skip
        title = _case_title(referral)
        assert _found(officer, "Cornelius Vandersteen") == {title}
        assert _found(officer, "Persephone Wolstencroft") == {title}
        found = person_search(officer, query_read("Horatio Fennimore"))
        assert [hit.source.key for hit in found.groups[0].hits] == ["shared-file"]
        assert _found(officer, "020 7946 0451") == {title}
        assert found.groups[0].audit_events > 0


class TestFollowsTheRecords:
    def test_a_rename_is_found_and_the_old_name_no_longer(self, officer):
        referral = _case(members=["Quillon Featherstonehaugh"])
        answers = referral.answers
        answers["household"]["members"][0]["name"] = "Quillon Smythe"
        referral.answers = answers
        referral.save()
        assert _found(officer, "Featherstonehaugh") == set()
        assert _found(officer, "Quillon Smythe") == {_case_title(referral)}

    def test_an_edited_discussion_loses_the_old_name(self, officer):
        boss = coordinator()
        referral = accepted(submitted(), boss)
        item = on_agenda(meeting(boss), referral, [], boss)
        item.discussion = "Saw Cornelius Vandersteen."
        item.save()
        item.discussion = "Saw nobody."
        item.save()
        assert _found(officer, "Cornelius Vandersteen") == set()

    def test_deleting_a_shared_file_takes_its_rows(self, officer):
        sender = UserFactory(roles=[Role.REFERRER])
        share = shared(sender, [UserFactory().organisation],
                       files=[upload("Horatio Fennimore.pdf")])  # fmt: skip
        assert _found(officer, "Horatio Fennimore")
        SharedFile.objects.filter(share=share).get().delete()
        assert _found(officer, "Horatio Fennimore") == set()

    def test_the_rebuild_gives_the_same_rows(self, officer):
        _case(members=["Quillon Featherstonehaugh"], impact="Ask Barnaby Quaritch")
        fields = ("source_type", "source_id", "field", "name", "text", "phone")
        before = sorted(PersonMention.objects.values_list(*fields))
        # Writes that skip signals are caught by the nightly rebuild.
        Referral.objects.update(answers={})
        assert sorted(PersonMention.objects.values_list(*fields)) == before
        result = person_index_rebuild()
        assert result.records >= 1
        assert _found(officer, "Featherstonehaugh") == set()

    def test_the_command_rebuilds_and_says_how_long(self, officer, capsys):
        _case(members=["Quillon Featherstonehaugh"])
        PersonMention.objects.all().delete()
        call_command("rebuild_person_index")
        assert "Person index rebuilt" in capsys.readouterr().out
        assert _found(officer, "Featherstonehaugh")


class TestReadingTheQuery:
    def test_parts_are_taken_apart(self):
        query = query_read("Jo Bloggs 2/2/1990 N1 1XA 07700 900 982")
        assert query == PersonQuery(
            words=["jo", "bloggs"],
            date_of_birth=date(1990, 2, 2),
            postcode="N11XA",
            phone="07700900982",
        )

    def test_an_address_line_is_free_text_not_a_name(self):
        query = query_read("12 Example Road")
        assert query.words == [] and query.phrase == " 12 example road "


class TestPostgreSQL:
    def test_a_similar_spelling_is_offered_and_marked(self, officer):
        if connection.vendor != "postgresql" or not trigram_available():
            pytest.skip("pg_trgm on PostgreSQL only")
        referral = _case(people=[person(0, name="Wilhelmina Grisedale")])
        _case(people=[person(0, name="Jane Grisedale")])
        found = person_search(officer, query_read("Wilhelmina Grisdale"))
        assert [group.title for group in found.groups] == [_case_title(referral)]
        assert found.groups[0].hits[0].matched == [
            "Similar name: check it is the same person"
        ]

    def test_free_text_goes_through_the_full_text_index(self, officer):
        if connection.vendor != "postgresql":
            pytest.skip("PostgreSQL only")
        from rights.selectors import query_parts

        sql = str(
            PersonMention.objects.filter(
                query_parts(query_read("J Allardyce"))[1].condition
            ).query
        )
        assert "to_tsvector('simple'::regconfig" in sql
        assert "to_tsquery" in sql


class TestIndexedOncePerSubmission:
    def test_a_new_case_is_indexed_once_with_everything_it_holds(
        self, officer, monkeypatch
    ):
        import rights.receivers

        calls = []
        original = rights.receivers.record_index

        def counted(**kwargs):
            calls.append(kwargs["source"].key)
            return original(**kwargs)

        monkeypatch.setattr(rights.receivers, "record_index", counted)
        referral = _case(
            members=["Quillon Featherstonehaugh"], impact="Ask Barnaby Quaritch"
        )
        # The referral's row, its people and its first event each used to
        # rewrite the case's rows; the submission now does it once, last.
        assert calls.count("referral") == 1
        assert _found(officer, "Featherstonehaugh") == {_case_title(referral)}
        assert _found(officer, "Barnaby Quaritch") == {_case_title(referral)}

"""Acknowledging a version: once per organisation, by its own signatory, with a
chained receipt; refusals explain themselves."""

import threading
from datetime import timedelta

import pytest
from django.db import (
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    transaction,
)
from django.test import RequestFactory

from agreements.models import Acknowledgement, ChangeType
from agreements.selectors import (
    AcknowledgementState,
    Refusal,
    acknowledgements_awaiting,
    case_material_access,
    coverage,
    organisations_in_good_standing,
)
from agreements.services import AcknowledgementRefused, acknowledgement_record
from audit.chain import chain_verify
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import (
    acknowledge,
    agreement_tree,
    publish_change,
    signatory_for,
)

pytestmark = pytest.mark.django_db


def _record(user, version, organisation=None):
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.7")
    request.user = user
    return acknowledgement_record(
        request=request,
        version=version,
        organisation=organisation or user.organisation,
        signatory_name="Sam Signer",
        signatory_role="Director",
    )


class TestAcknowledging:
    def test_signatory_acknowledges_for_their_organisation(self):
        _, isa, organisations, _ = agreement_tree()
        signer = signatory_for(organisations[0])
        ack, created = _record(signer, isa.latest_version)
        assert created
        assert ack.organisation == organisations[0]
        assert ack.content_hash == isa.latest_version.content_hash
        assert ack.ip_address == "192.0.2.7"
        assert ack.hash == ack.compute_hash()

    def test_second_click_returns_the_first_acknowledgement(self):
        _, isa, organisations, _ = agreement_tree()
        first_signer = signatory_for(organisations[0])
        colleague = signatory_for(organisations[0])
        first, _ = _record(first_signer, isa.latest_version)
        second, created = _record(colleague, isa.latest_version)
        assert not created
        assert second.pk == first.pk
        assert second.user_id == first_signer.pk
        assert Acknowledgement.objects.count() == 1

    def test_database_allows_one_per_organisation_per_version(self):
        _, isa, organisations, _ = agreement_tree()
        ack = acknowledge(isa.latest_version, organisations[0])
        duplicate = Acknowledgement(
            version=ack.version,
            organisation=ack.organisation,
            organisation_name="x",
            user=ack.user,
            username="x",
            signatory_name="x",
            signatory_role="x",
            acknowledged_at=ack.acknowledged_at,
            content_hash=ack.content_hash,
            previous_hash=ack.hash,
            hash="f" * 64,
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            duplicate.save()

    def test_acknowledgements_cannot_be_edited(self):
        _, isa, organisations, _ = agreement_tree()
        ack = acknowledge(isa.latest_version, organisations[0])
        with pytest.raises(DatabaseError), transaction.atomic():
            Acknowledgement.objects.filter(pk=ack.pk).update(signatory_name="Other")

    def test_receipts_form_one_hash_chain(self):
        protocol, isa, organisations, _ = agreement_tree()
        for organisation in organisations:
            acknowledge(isa.latest_version, organisation)
            acknowledge(protocol.latest_version, organisation)
        assert chain_verify(Acknowledgement) is None


class TestRefusals:
    def test_superseded_version_is_refused(self):
        _, isa, organisations, coordinator = agreement_tree()
        old = isa.latest_version
        publish_change(isa, coordinator, number="2.0")
        with pytest.raises(AcknowledgementRefused, match="replaced by version 2.0"):
            _record(signatory_for(organisations[0]), old)

    def test_another_organisation_is_refused(self):
        _, isa, organisations, _ = agreement_tree()
        signer = signatory_for(organisations[0])
        with pytest.raises(AcknowledgementRefused, match="your own organisation"):
            _record(signer, isa.latest_version, organisations[1])

    def test_someone_who_is_not_a_signatory_is_refused(self):
        _, isa, organisations, _ = agreement_tree()
        referrer = UserFactory(organisation=organisations[0], roles=["Referrers"])
        with pytest.raises(AcknowledgementRefused, match="named signatory"):
            _record(referrer, isa.latest_version)

    def test_organisation_outside_the_agreement_is_refused(self):
        _, isa, _, _ = agreement_tree()
        outsider = signatory_for(UserFactory().organisation)
        with pytest.raises(AcknowledgementRefused, match="not a signatory"):
            _record(outsider, isa.latest_version)


class TestCoverage:
    def test_statuses_and_percentage(self, settings):
        _, isa, organisations, _ = agreement_tree()
        version = isa.latest_version
        acknowledge(version, organisations[0])
        rows, percent = coverage(version)
        states = {row.organisation_id: row.state for row in rows}
        assert states[organisations[0].pk] == AcknowledgementState.ACKNOWLEDGED
        assert (
            states[organisations[1].pk] == AcknowledgementState.OUTSTANDING
        )  # published today
        assert percent == 33
        settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = -1
        states = {row.organisation_id: row.state for row in coverage(version)[0]}
        assert states[organisations[1].pk] == AcknowledgementState.OVERDUE

    def test_new_material_version_needs_acknowledging_again(self):
        _, isa, organisations, coordinator = agreement_tree()
        acknowledge(isa.latest_version, organisations[0])
        isa = publish_change(isa, coordinator, number="2.0")
        rows, _ = coverage(isa.latest_version)
        status = {r.organisation_id: r.state for r in rows}
        assert status[organisations[0].pk] == AcknowledgementState.OUTSTANDING

    def test_editorial_version_keeps_earlier_acknowledgements(self):
        _, isa, organisations, coordinator = agreement_tree()
        acknowledge(isa.latest_version, organisations[0])
        isa = publish_change(
            isa, coordinator, number="1.1", change_type=ChangeType.EDITORIAL
        )
        status = {r.organisation_id: r.state for r in coverage(isa.latest_version)[0]}
        assert status[organisations[0].pk] == AcknowledgementState.ACKNOWLEDGED

    def test_signatory_sees_what_they_still_have_to_acknowledge(self):
        protocol, isa, organisations, _ = agreement_tree()
        signer = signatory_for(organisations[0])
        assert {a.version.page_id for a in acknowledgements_awaiting(signer)} == {
            protocol.pk,
            isa.pk,
        }
        acknowledge(isa.latest_version, organisations[0], signer)
        assert [a.version.page_id for a in acknowledgements_awaiting(signer)] == [
            protocol.pk
        ]


class TestCaseMaterialAccess:
    """Deny by default: only parties to the ISA in force that acknowledged it
    (docs/features.md, "Agreements")."""

    def test_a_party_needs_its_acknowledgement_and_keeps_a_grace_period(self, settings):
        _, isa, organisations, coordinator = agreement_tree()
        person = UserFactory(organisation=organisations[0])
        # Never acknowledged: closed, even while others are still in time.
        decision = case_material_access(person)
        assert not decision.allowed
        assert decision.code == Refusal.NOT_ACKNOWLEDGED
        assert "has not acknowledged version 1.0" in decision.reason
        acknowledge(isa.latest_version, organisations[0])
        assert case_material_access(person).allowed
        # A new material version: the earlier acknowledgement carries the
        # organisation through the grace period, and no further.
        isa = publish_change(isa, coordinator, number="2.0")
        assert case_material_access(person).allowed
        settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = -1
        decision = case_material_access(person)
        assert not decision.allowed
        assert "has not acknowledged version 2.0" in decision.reason
        acknowledge(isa.latest_version, organisations[0])
        assert case_material_access(person).allowed

    def test_decision_names_the_organisations_signatories(self, settings):
        _, _, organisations, _ = agreement_tree()
        signer = signatory_for(organisations[1])
        settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = -1
        decision = case_material_access(UserFactory(organisation=organisations[1]))
        assert decision.signatories == [signer]

    def test_an_organisation_not_named_in_the_isa_is_refused(self):
        _, isa, organisations, _ = agreement_tree()
        acknowledge(isa.latest_version, organisations[0])
        outsider = UserFactory(organisation=OrganisationFactory(party=False))
        decision = case_material_access(outsider)
        assert not decision.allowed
        assert decision.code == Refusal.NOT_PARTY
        assert "is not a party to the current version of CMARAC ISA" in (
            decision.reason
        )

    def test_a_party_to_the_protocol_alone_is_refused(self):
        protocol, isa, organisations, coordinator = agreement_tree()
        # Named in the protocol, acknowledged it, but not in the ISA.
        extra = OrganisationFactory(party=False)
        protocol.signatory_organisations.add(extra)
        protocol = publish_change(protocol, coordinator, number="1.1")
        acknowledge(protocol.latest_version, extra)
        decision = case_material_access(UserFactory(organisation=extra))
        assert decision.code == Refusal.NOT_PARTY

    def test_a_withdrawn_organisation_is_refused(self):
        _, isa, organisations, _ = agreement_tree()
        acknowledge(isa.latest_version, organisations[0])
        organisations[0].active = False
        organisations[0].save()
        decision = case_material_access(UserFactory(organisation=organisations[0]))
        assert decision.code == Refusal.WITHDRAWN

    def test_without_a_published_isa_only_coordinators_see_case_material(self):
        organisation = OrganisationFactory(party=False)
        decision = case_material_access(UserFactory(organisation=organisation))
        assert not decision.allowed
        assert decision.code == Refusal.NO_AGREEMENT
        coordinator = UserFactory(organisation=organisation, roles=["Coordinators"])
        assert case_material_access(coordinator).allowed

    def test_administrators_without_an_organisation_see_no_case_material(self):
        _, isa, _, _ = agreement_tree()
        admin = UserFactory(organisation=None, is_superuser=True)
        decision = case_material_access(admin)
        assert not decision.allowed
        assert decision.code == Refusal.NO_ORGANISATION

    def test_only_parties_in_good_standing_may_be_sent_material(self):
        _, isa, organisations, _ = agreement_tree()
        acknowledge(isa.latest_version, organisations[0])
        acknowledge(isa.latest_version, organisations[1])
        organisations[1].active = False
        organisations[1].save()
        OrganisationFactory(party=False)
        assert organisations_in_good_standing() == {organisations[0].pk}

    def test_grace_period_counts_from_publication(self, settings):
        _, isa, organisations, _ = agreement_tree()
        settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = 14
        rows, _ = coverage(isa.latest_version)
        published = isa.latest_version.published_at
        from django.utils import timezone

        assert rows[0].due == timezone.localtime(published).date() + timedelta(days=14)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real concurrent writers need PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_two_signatories_at_once_give_one_acknowledgement():
    _, isa, organisations, _ = agreement_tree()
    version = isa.latest_version
    signers = [signatory_for(organisations[0]) for _ in range(4)]
    results, errors = [], []
    barrier = threading.Barrier(len(signers))

    def sign(user):
        try:
            barrier.wait()
            results.append(_record(user, version))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign, args=(u,)) for u in signers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Acknowledgement.objects.filter(organisation=organisations[0]).count() == 1
    assert sum(1 for _, created in results if created) == 1
    assert len({ack.pk for ack, _ in results}) == 1

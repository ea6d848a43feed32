import pytest


@pytest.fixture(autouse=True)
def no_stand_in_agreement(monkeypatch):
    """These tests publish the agreements themselves and name every party, so
    the factories' stand-in ISA (tests.factories.agreements) stays out."""
    monkeypatch.setattr(
        "tests.factories.agreements.party_to_stand_in_agreement",
        lambda organisation: None,
    )

"""NUL characters: refused next to the field in every form (portal.forms),
and with a plain 400 page anywhere in an address (portal.middleware).

PostgreSQL refuses NUL in text and JSON, so each of these was a 500 there.
"""

import pytest
from django import forms
from django.http import QueryDict

from accounts.models import Organisation
from portal.forms import (
    NULL_CHARACTER_MESSAGE,
    DateField,
    RefusesNullCharacters,
    contains_null_character,
)
from tests.factories import OrganisationFactory
from tests.forms import project_form_classes

NUL = "\x00"


FORM_CLASSES = project_form_classes()


def test_the_project_forms_are_found():
    names = {cls.__name__ for cls in FORM_CLASSES}
    assert {"SectionForm", "SignInForm", "ShareForm", "MeetingForm"} <= names


@pytest.mark.parametrize("form_class", FORM_CLASSES, ids=lambda cls: cls.__qualname__)
def test_every_form_refuses_nul_characters(form_class):
    assert issubclass(form_class, RefusesNullCharacters), form_class


class Everything(RefusesNullCharacters, forms.Form):
    text = forms.CharField(required=False)
    choice = forms.ChoiceField(choices=[("a", "A")], required=False)
    many = forms.MultipleChoiceField(choices=[("a", "A")], required=False)
    tick = forms.BooleanField(required=False)
    day = DateField(noun="Date", required=False)
    # Looks the value up: on PostgreSQL a NUL here failed in the query.
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.all(), to_field_name="slug", required=False
    )


@pytest.mark.django_db
class TestTheFormMixin:
    @pytest.mark.parametrize(
        ("name", "data"),
        [
            ("text", {"text": f"a{NUL}b"}),
            ("choice", {"choice": NUL}),
            ("many", {"many": ["a", NUL]}),
            ("tick", {"tick": f"on{NUL}"}),
            ("day", {"day_0": f"1{NUL}", "day_1": "2", "day_2": "2020"}),
            ("organisation", {"organisation": f"partner{NUL}"}),
        ],
    )
    def test_one_plain_error_on_the_field_whatever_its_kind(self, name, data):
        OrganisationFactory()
        query = QueryDict(mutable=True)
        for key, value in data.items():
            query.setlist(key, value if isinstance(value, list) else [value])
        form = Everything(query)
        assert not form.is_valid()
        assert form.errors == {name: [NULL_CHARACTER_MESSAGE]}

    def test_other_fields_are_cleaned_as_usual(self):
        organisation = OrganisationFactory()
        form = Everything({"text": f"x{NUL}", "organisation": organisation.slug})
        assert not form.is_valid()
        assert form.cleaned_data["organisation"] == organisation

    def test_a_form_without_nul_is_untouched(self):
        form = Everything({"text": "fine", "tick": "on"})
        assert form.is_valid()
        assert form.cleaned_data["tick"] is True


def test_nul_is_found_in_every_shape_of_data():
    assert contains_null_character(f"a{NUL}")
    assert contains_null_character(["a", [f"{NUL}"]])
    assert contains_null_character({f"k{NUL}": "v"})
    assert contains_null_character(QueryDict("a=1&a=2%00&b=3"))
    assert not contains_null_character(QueryDict("a=1&a=2"))
    assert not contains_null_character(None)


@pytest.mark.django_db
class TestTheAddress:
    @pytest.mark.parametrize(
        "url", ["/referrals/CM-2026-0001%00/", "/search/?q=%00", "/?%00=1", "/%00"]
    )
    def test_a_nul_is_a_bad_request_with_a_plain_page(self, verified_client, url):
        response = verified_client.get(url)
        assert response.status_code == 400
        page = response.content.decode()
        assert "There is a problem with the page address" in page
        assert "check it is correct" in page

    def test_anonymous_visitors_get_the_same_answer(self, client):
        # Not a sign-in redirect: nothing about the route is looked at first.
        assert client.get("/referrals/x%00/").status_code == 400

"""People picked in Wagtail's admin are shown with their organisation, so two
people with the same name can be told apart."""

import re
from pathlib import Path

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.forms.models import modelform_factory
from wagtail.admin.forms.models import WagtailAdminModelForm

from accounts.forms import PersonChoiceField
from accounts.models import Role, User
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import agreement_tree
from tests.forms import project_form_classes

pytestmark = pytest.mark.django_db

OPTION = re.compile(r'<option value="(\d+)"[^>]*>([^<]*)</option>')


def test_namesakes_in_a_picker_show_their_organisations():
    police = OrganisationFactory(name="Police")
    fire = OrganisationFactory(name="Fire")
    one = UserFactory(first_name="Sam", last_name="Patel", organisation=police)
    two = UserFactory(first_name="Sam", last_name="Patel", organisation=fire)
    admin = UserFactory(organisation=None, is_superuser=True, is_staff=True)
    _, isa, _, _ = agreement_tree()

    page = verified_client_for(admin).get(f"/admin/pages/{isa.pk}/edit/")
    assert page.status_code == 200
    select = re.search(
        r'<select name="responsible_officer".*?</select>', page.content.decode(), re.S
    ).group(0)
    labels = dict(OPTION.findall(select))
    assert labels[str(one.pk)] == "Sam Patel (Police)"
    assert labels[str(two.pk)] == "Sam Patel (Fire)"
    assert labels[str(admin.pk)].endswith("(Administrator)")


def _user_links():
    """Every link from one of the project's models to a person."""
    ours = {cls._meta.app_label for cls in project_models()}
    for model in project_models():
        for field in model._meta.get_fields():
            if (
                field.is_relation
                and not field.auto_created
                and field.concrete
                and field.related_model is User
                and field.editable
                and model._meta.app_label in ours
            ):
                yield model, field


def project_models():
    return [
        model
        for config in apps.get_app_configs()
        if Path(config.path).parent == Path(settings.BASE_DIR)
        for model in config.get_models()
    ]


def test_every_admin_form_picks_people_with_their_organisation():
    """A person chosen in any admin form (pages, snippets, modeladmin) of any
    of our models, one or many, is shown with their organisation."""
    links = list(_user_links())
    assert links, "the project links its records to people"
    for model, field in links:
        form_class = modelform_factory(
            model, form=WagtailAdminModelForm, fields=[field.name]
        )
        picker = form_class().fields[field.name]
        assert isinstance(picker, PersonChoiceField), (
            f"{model.__name__}.{field.name}: {type(picker).__name__}"
        )


@pytest.mark.parametrize(
    ("form_class", "name"),
    [
        (form_class, name)
        for form_class in project_form_classes()
        for name, form_field in form_class.base_fields.items()
        if isinstance(form_field, forms.ModelChoiceField)
        and form_field.queryset is not None
        and form_field.queryset.model is User
    ],
    ids=str,
)
def test_every_project_form_picks_people_with_their_organisation(form_class, name):
    assert isinstance(form_class.base_fields[name], PersonChoiceField), (
        f"{form_class.__qualname__}.{name}"
    )


def test_namesake_chairs_show_their_organisations():
    """The meeting form declares its own options, which once left Wagtail's
    person picker out: two coordinators called Sam Patel looked the same."""
    police = OrganisationFactory(name="Police")
    council = OrganisationFactory(name="Council")
    one = UserFactory(first_name="Sam", last_name="Patel", organisation=police,
                      roles=[Role.COORDINATOR])  # fmt: skip
    two = UserFactory(first_name="Sam", last_name="Patel", organisation=council,
                      roles=[Role.COORDINATOR])  # fmt: skip
    page = verified_client_for(one).get("/admin/meetings/meeting/create/")
    assert page.status_code == 200
    select = re.search(
        r'<select name="chair".*?</select>', page.content.decode(), re.S
    ).group(0)
    labels = dict(OPTION.findall(select))
    assert labels[str(one.pk)] == "Sam Patel (Police)"
    assert labels[str(two.pk)] == "Sam Patel (Council)"

"""Every multi-choice question in every form of ours is drawn as checkboxes.

Django's CheckboxSelectMultiple subclasses RadioSelect, so a renderer that
tests for radios first drew every "select all that apply" question as radio
buttons: a person could tick only one answer and the rest were lost. The forms
are found by walking our apps, so a form added later is covered without
anyone remembering to list it here.
"""

import copy
import re

import pytest
from django import forms

from portal.templatetags.govuk import govuk_field
from tests.forms import project_form_classes

# Sample choices put in place of each field's own, which for model choice
# fields come from an empty test database.
SAMPLE_CHOICES = [("first", "First"), ("second", "Second"), ("third", "Third")]


def _multi_choice_fields():
    found = []
    for form_class in project_form_classes():
        for name, field in form_class.base_fields.items():
            if isinstance(
                field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField
            ):
                found.append(
                    pytest.param(
                        form_class, name, id=f"{form_class.__qualname__}.{name}"
                    )
                )
    return sorted(found, key=lambda param: param.id)


MULTI_CHOICE_FIELDS = _multi_choice_fields()


def test_the_project_has_multi_choice_questions_to_check():
    # Guards the walk itself: were it to find nothing, every check below
    # would pass without looking at anything.
    assert len(MULTI_CHOICE_FIELDS) >= 6


@pytest.mark.parametrize(("form_class", "name"), MULTI_CHOICE_FIELDS)
def test_multi_choice_question_is_drawn_as_checkboxes(db, form_class, name):
    original = form_class.base_fields[name]
    # The question's own widget and label, with choices that need no database
    # rows (model choice fields get their queryset only when a form is made).
    field = forms.MultipleChoiceField(
        label=original.label,
        choices=SAMPLE_CHOICES,
        widget=copy.deepcopy(original.widget),
    )
    one_field_form = type("OneField", (forms.Form,), {name: field})
    bound = one_field_form(data={name: ["first", "third"]})[name]

    html = govuk_field(bound)

    assert 'type="radio"' not in html
    assert len(re.findall(r'type="checkbox"', html)) == len(SAMPLE_CHOICES)
    checked = re.findall(r'value="(\w+)" checked', html)
    assert checked == ["first", "third"]

"""Every box for several lines of text in our forms stores plain newlines.

Browsers send a textarea's line breaks as CRLF, so a note typed on a page and
a note saved by code differed, and saving an edit form unchanged could change
the stored text. portal.forms.TextAreaField stores "\\n"; the forms are found
by walking our apps, so a field added later is covered too.
"""

import pytest
from django import forms

from portal.forms import TextAreaField
from referrals.forms import SECTIONS
from tests.forms import project_form_classes

# The referral sections keep each page's answers exactly as posted, so the page
# comes back as it was left (referrals.services.draft_save); their round trip
# is tested in tests/referrals/test_round_trip.py.
KEPT_AS_POSTED = {section.form_class for section in SECTIONS} | {
    repeat.form_class for section in SECTIONS for repeat in section.repeats
}


def _text_areas():
    found = []
    for form_class in project_form_classes():
        if form_class in KEPT_AS_POSTED:
            continue
        try:
            fields = form_class.base_fields
        except AttributeError:
            continue
        for name, field in fields.items():
            if isinstance(field.widget, forms.Textarea):
                found.append(
                    pytest.param(field, id=f"{form_class.__qualname__}.{name}")
                )
    return found


TEXT_AREAS = _text_areas()


def test_the_walk_finds_the_text_areas():
    names = {param.id for param in TEXT_AREAS}
    assert {"ShareForm.note", "RecallForm.reason", "ActionUpdateForm.update"} <= names


@pytest.mark.parametrize("field", TEXT_AREAS)
def test_line_breaks_are_stored_as_newlines(field):
    assert isinstance(field, TextAreaField)
    assert field.clean("First line.\r\nSecond line.\rThird.") == (
        "First line.\nSecond line.\nThird."
    )

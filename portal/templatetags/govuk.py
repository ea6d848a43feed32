"""Render Django form widgets with GOV.UK Design System classes and ARIA links."""

from django import template

register = template.Library()


@register.simple_tag
def govuk_widget(field):
    """The field's input, described by its hint and error messages."""
    widget = field.field.widget
    attrs = {}
    described_by = []
    if field.help_text:
        described_by.append(f"{field.id_for_label}-hint")
    for index, _ in enumerate(field.errors, start=1):
        described_by.append(f"{field.id_for_label}-error-{index}")
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    css = widget.attrs.get("class", "govuk-input")
    if field.errors:
        css = f"{css} govuk-input--error"
        attrs["aria-invalid"] = "true"
    attrs["class"] = css
    return field.as_widget(attrs=attrs)

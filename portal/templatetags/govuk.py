"""Render Django form widgets with GOV.UK Design System classes and ARIA links."""

import itertools

from django import template
from django.utils.html import format_html

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
        base = css.split()[0]
        css = f"{css} {_ERROR_CLASSES.get(base, 'govuk-input--error')}"
        attrs["aria-invalid"] = "true"
    attrs["class"] = css
    return field.as_widget(attrs=attrs)


_ERROR_CLASSES = {
    "govuk-textarea": "govuk-textarea--error",
    "govuk-select": "govuk-select--error",
    "govuk-file-upload": "govuk-file-upload--error",
}


@register.simple_tag
def govuk_field(field, heading=""):
    """A whole GOV.UK form group for ``field``, chosen by its widget.

    Radios and checkboxes get a fieldset and legend, dates the three-box date
    input, everything else a label, hint, error messages and the input.
    """
    from django import forms
    from django.template.loader import render_to_string

    from portal.forms import DateWidget, MonthWidget

    widget = field.field.widget
    # CheckboxSelectMultiple subclasses RadioSelect in Django, so the more
    # specific class must be tested first or every "select all that apply"
    # question is drawn as radios and loses all but one answer.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        name = "checkboxes"
    elif isinstance(widget, forms.RadioSelect):
        name = "radios"
    elif isinstance(widget, DateWidget | MonthWidget):
        name = "date"
    elif isinstance(widget, forms.CheckboxInput):
        return render_to_string("includes/checkbox.html", {"field": field})
    else:
        return render_to_string("includes/field.html", {"field": field})
    context = {"field": field, "heading": heading}
    if name == "date":
        values = field.value()
        if not isinstance(values, list | tuple):
            values = widget.decompress(values)
        labels, widths = ("Day", "Month", "Year"), (2, 2, 4)
        if isinstance(widget, MonthWidget):
            labels, widths = labels[1:], widths[1:]
        context["parts"] = list(zip(labels, values, widths, strict=True))
    return render_to_string(f"includes/govuk/{name}.html", context)


@register.filter
def error_anchor(bound_field) -> str:
    """The id an error summary link should move focus to: the first radio or
    checkbox of a group, otherwise the input itself."""
    from portal.forms import error_anchor as anchor

    return anchor(bound_field)


@register.filter
def page_links(page):
    """The page numbers a GOV.UK pagination shows: the first and last, two
    either side of the current page, and None where numbers are left out.
    Worked out here, not by looping over every page in the template: a list
    of 20,000 referrals has 800 pages."""
    paginator = page.paginator
    return [
        None if number == paginator.ELLIPSIS else number
        for number in paginator.get_elided_page_range(
            page.number, on_each_side=2, on_ends=1
        )
    ]


@register.filter
def govuk_date(value) -> str:
    """ "6 December 2026": one date format on every page (portal.dates)."""
    from portal.dates import long_date

    return long_date(value)


@register.filter
def govuk_datetime(value) -> str:
    """ "6 December 2026, 14:05"."""
    from portal.dates import long_datetime

    return long_datetime(value)


@register.filter
def clause(value) -> str:
    """Text that more of a sentence follows, without its own closing full stop,
    comma, semicolon or colon: an action typed as "for legal review." then
    ", due 6 December 2026" reads "for legal review, due ...", not "review., due".
    """
    return str(value).rstrip().rstrip(".,;:").rstrip()


@register.filter(is_safe=True)
def back_link_landmark(html):
    """Wrap a page's back link in a navigation landmark; nothing when it has none.

    GOV.UK places the back link before ``<main>`` so the skip link passes it
    (https://design-system.service.gov.uk/components/back-link/); a landmark
    around it keeps every piece of content inside one (WCAG 1.3.1, axe-core's
    "region" rule) without leaving an empty landmark on other pages.
    """
    if not str(html).strip():
        return ""
    # The block arrives rendered and marked safe, so format_html keeps it as is.
    return format_html('<nav class="portal-back-link" aria-label="Back">{}</nav>', html)


@register.tag
def data_table(parser, token):
    """Wrap a data table in a labelled, focusable container that scrolls sideways.

    At 320 CSS pixels a wide table would otherwise make the whole page scroll
    sideways (WCAG 1.4.10 Reflow). Keyboard users scroll the container once it
    has focus, and the caption names it. Inside the tag ``table_caption_id`` is
    the id to give the table's ``<caption>``::

        {% data_table %}<table class="govuk-table">
            <caption id="{{ table_caption_id }}" ...>...</caption>...
        </table>{% end_data_table %}

    ``{% data_table "agenda" %}`` names the id (``table-caption-agenda``)
    rather than numbering it: for a table rendered apart from its page (a
    fragment kept in the shared cache), whose numbers would clash.
    """
    bits = token.split_contents()
    name = bits[1][1:-1] if len(bits) == 2 else ""
    if len(bits) > 2 or (len(bits) == 2 and not name.isidentifier()):
        raise template.TemplateSyntaxError('data_table takes one quoted name: "agenda"')
    nodelist = parser.parse(("end_data_table",))
    parser.delete_first_token()
    return DataTableNode(nodelist, name)


class DataTableNode(template.Node):
    def __init__(self, nodelist, name=""):
        self.nodelist = nodelist
        self.name = name

    def render(self, context):
        if self.name:
            caption_id = f"table-caption-{self.name}"
        else:
            # One counter per page render: copies of the context (includes)
            # share it, so two tables on a page never share an id.
            counter = context.__dict__.setdefault(
                "_portal_table_ids", itertools.count(1)
            )
            caption_id = f"table-caption-{next(counter)}"
        with context.push(table_caption_id=caption_id):
            table = self.nodelist.render(context)
        return format_html(
            '<div class="app-table-container" role="region" '
            'aria-labelledby="{}" tabindex="0">{}</div>',
            caption_id,
            table,
        )

"""Charts of the board's figures: SVG drawn on the server by pygal, made safe
to put inline in a page, and read the same way without the picture.

- pygal draws; we choose GOV.UK colours (static/css/board-charts.css, since
  the page's Content-Security-Policy allows no inline styles) and strip what
  pygal adds for its own JavaScript.
- The SVG is parsed (defusedxml) and rebuilt from an allow-list of elements
  and attributes: no script, no style, no event handler, no link out. Only
  then is it marked safe for the template.
- Each chart is ``role="img"`` named by its own ``<title>`` and ``<desc>``
  (the text summary), with the same figures in a table beside it
  (https://www.w3.org/WAI/tutorials/images/complex/).
- Values are printed on the bars (not colour alone); a hidden small count is
  a hatched bar up to the threshold labelled "fewer than 5", and a withheld
  count draws no bar at all, so the picture gives away no more than the table.
"""

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

import pygal
from defusedxml.ElementTree import fromstring
from django.utils.safestring import SafeString, mark_safe

from .suppression import FEWER_THAN, THRESHOLD, WITHHELD, Hidden, Table

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
register_namespace("", SVG)
register_namespace("xlink", XLINK)

ELEMENTS = {"svg", "g", "defs", "pattern", "rect", "path", "line", "text", "tspan"}
ATTRIBUTES = {
    "viewBox", "class", "x", "y", "x1", "x2", "y1", "y2", "width", "height",
    "rx", "ry", "d", "transform", "text-anchor", "fill", "stroke",
    "stroke-width", "id", "patternUnits", "patternTransform", "data-hidden",
}  # fmt: skip
# Attribute values that could reach outside the chart.
_UNSAFE_VALUE = re.compile(r"(?i)(javascript:|data:|url\((?!#[\w-]+\)))")

GOVUK_BLACK = "#0b0c0c"


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    summary: str
    svg: SafeString


def _hatch(pattern_id: str) -> str:
    # Diagonal black lines on white: seen without colour, and 3:1 or more
    # against the white background (WCAG 2.2, 1.4.11 Non-text Contrast).
    return (
        f'<pattern id="{pattern_id}" width="8" height="8" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="8" height="8" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="8" stroke="{GOVUK_BLACK}" stroke-width="3"/>'
        "</pattern>"
    )


def bar_chart(
    table: Table, *, chart_id: str, summary: str, column: int = 0,
    horizontal: bool = False,
) -> Chart:  # fmt: skip
    """One column of ``table`` as bars, one per row label."""
    hatch_id = f"{chart_id}-hatch"
    labels = list(table.row_labels)
    cells = table.column(column)
    if horizontal:
        # pygal draws the first bar at the bottom: reverse to read downwards.
        labels, cells = labels[::-1], cells[::-1]
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    height = max(160, 40 * len(labels) + 80) if horizontal else 320
    chart = kind(
        js=[],
        css=[],
        no_prefix=True,
        disable_xml_declaration=True,
        show_legend=False,
        print_values=True,
        tooltip_border_radius=0,
        width=720,
        height=height,
        margin=12,
        x_label_rotation=0 if horizontal else (30 if len(labels) > 6 else 0),
        truncate_label=-1,
        min_scale=2,
        range=(0, max([c.value or 0 for c in cells] + [THRESHOLD])),
        defs=[_hatch(hatch_id)],
        show_y_guides=True,
    )
    chart.x_labels = labels
    values = []
    for item in cells:
        if item.hidden == Hidden.SMALL:
            values.append({
                "value": THRESHOLD,
                "formatter": lambda _v: FEWER_THAN,
                "node": {"data-hidden": "small", "fill": f"url(#{hatch_id})",
                         "stroke": GOVUK_BLACK},
            })  # fmt: skip
        elif item.hidden == Hidden.WITHHELD:
            values.append(None)
        else:
            values.append(item.value)
    chart.add(table.column_labels[column], values)
    svg = svg_safe(
        chart.render(is_unicode=True),
        title_id=f"{chart_id}-title",
        desc_id=f"{chart_id}-desc",
        title=table.title,
        summary=summary,
    )
    return Chart(chart_id, table.title, summary, svg)


def svg_safe(svg: str, *, title_id: str, desc_id: str, title: str,
             summary: str) -> SafeString:  # fmt: skip
    """The SVG rebuilt from allowed elements and attributes only, named by a
    ``<title>`` and ``<desc>`` of our own, ready to be put inline."""
    source = fromstring(svg)  # defusedxml: no entities, no external references
    root = Element(f"{{{SVG}}}svg")
    root.set("viewBox", source.get("viewBox", "0 0 720 320"))
    root.set("class", "app-board-chart__svg")
    root.set("role", "img")
    root.set("aria-labelledby", f"{title_id} {desc_id}")
    root.set("focusable", "false")
    SubElement(root, f"{{{SVG}}}title", id=title_id).text = title
    SubElement(root, f"{{{SVG}}}desc", id=desc_id).text = summary
    for child in source:
        _copy(child, root)
    return mark_safe(tostring(root, encoding="unicode"))  # noqa: S308 (rebuilt above)


def _copy(node, parent) -> None:
    tag = node.tag.rsplit("}", 1)[-1] if isinstance(node.tag, str) else ""
    if tag not in ELEMENTS:
        return  # script, style, title, desc, foreignObject, a, image, comments
    if tag == "g" and "tooltip-overlay" in node.get("class", ""):
        return  # pygal's tooltips need its JavaScript
    copied = SubElement(parent, f"{{{SVG}}}{tag}")
    for name, value in node.attrib.items():
        if name in ATTRIBUTES and not _UNSAFE_VALUE.search(value):
            copied.set(name, value)
    copied.text = node.text if tag in {"text", "tspan"} else None
    for child in node:
        _copy(child, copied)
        if tag in {"text", "tspan"}:
            copied[-1].tail = child.tail if len(copied) else None


def withheld_note(table: Table, column: int = 0) -> str:
    """Which bars are missing because their count is withheld."""
    missing = [
        label
        for label, cell in zip(table.row_labels, table.column(column), strict=True)
        if cell.hidden == Hidden.WITHHELD
    ]
    if not missing:
        return ""
    return (
        f"No bar is drawn for {', '.join(missing)}: the count is {WITHHELD} "
        "so that the total cannot reveal a count under 5."
    )

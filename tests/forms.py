"""Post back what a page shows: read a rendered form's current values as a
browser would submit them, so a test can save a form unchanged.

The round-trip rule: opening an edit form and saving it without touching it
changes nothing. A test renders the page, reads the form with ``form_on``, and
posts ``form.data`` to ``form.action``. Values follow the HTML standard's form
submission (https://html.spec.whatwg.org/multipage/form-control-infrastructure.html#constructing-the-form-data-set):
checked boxes and radios only, a select's selected options (or its first
option when none is), a textarea's text without the newline right after its
start tag and with CRLF line breaks, and no button unless one is named.
"""

import importlib
import pkgutil
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

from django import forms
from django.apps import apps
from django.conf import settings

_NO_VALUE_TYPES = {"submit", "button", "reset", "image", "file"}


@dataclass
class RenderedForm:
    action: str
    method: str
    data: list[tuple[str, str]] = field(default_factory=list)
    buttons: dict[str, str] = field(default_factory=dict)
    # Every named control, sent or not (an unticked box sends nothing).
    fields: set[str] = field(default_factory=set)

    def post_data(self, button: str | None = None) -> dict[str, list[str]]:
        """What the browser sends: each name with its values in page order,
        plus the named submit ``button`` if one is given."""
        data: dict[str, list[str]] = {}
        for name, value in self.data:
            data.setdefault(name, []).append(value)
        if button is not None:
            data[button] = [self.buttons[button]]
        return data


class _FormsParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[RenderedForm] = []
        self._form: RenderedForm | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._select: dict | None = None
        self._option: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = RenderedForm(
                action=attrs.get("action") or "",
                method=(attrs.get("method") or "get").lower(),
            )
            self.forms.append(self._form)
            return
        if self._form is None or "disabled" in attrs:
            return
        name = attrs.get("name")
        if name and tag in ("input", "textarea", "select"):
            self._form.fields.add(name)
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind == "submit":
                self._form.buttons[name] = attrs.get("value") or ""
            elif kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._form.data.append((name, attrs.get("value") or "on"))
            elif kind not in _NO_VALUE_TYPES:
                self._form.data.append((name, attrs.get("value") or ""))
        elif tag == "button" and name:
            self._form.buttons[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select = {
                "name": name,
                "multiple": "multiple" in attrs,
                "options": [],
            }
        elif tag == "option" and self._select is not None:
            self._option = {
                "value": attrs.get("value"),
                "selected": "selected" in attrs,
                "text": [],
            }
            self._select["options"].append(self._option)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        elif self._option is not None:
            self._option["text"].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None:
            name, parts = self._textarea
            text = "".join(parts)
            # HTML drops one newline straight after <textarea> (Django adds
            # it), and a browser sends every line break as CRLF.
            text = text[1:] if text.startswith("\n") else text
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
            self._form.data.append((name, text))
            self._textarea = None
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = [o for o in options if o["selected"]]
            if not chosen and options and not self._select["multiple"]:
                chosen = options[:1]
            for option in chosen:
                value = option["value"]
                if value is None:
                    value = "".join(option["text"]).strip()
                self._form.data.append((self._select["name"], value))
            self._select = None


def forms_on(html: str, page_url: str = "") -> list[RenderedForm]:
    """Every form on the page, with its action made absolute-path."""
    parser = _FormsParser()
    parser.feed(html)
    for form in parser.forms:
        form.action = urljoin(page_url, form.action) if page_url else form.action
    return parser.forms


def form_on(html: str, *, with_field: str, page_url: str = "") -> RenderedForm:
    """The one form on the page that has a field called ``with_field``."""
    found = [form for form in forms_on(html, page_url) if with_field in form.fields]
    if len(found) != 1:
        raise AssertionError(
            f"Expected one form with a field {with_field!r}, found {len(found)}"
        )
    return found[0]


def post_back_unchanged(client, url: str, *, with_field: str, button=None):
    """Open ``url``, then submit the form that has ``with_field`` exactly as
    the page shows it. Returns the response to the post."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    form = form_on(page.content.decode(), with_field=with_field, page_url=url)
    assert form.method == "post", form.method
    return client.post(form.action, form.post_data(button))


def project_form_classes():
    """Every form class defined in the project's own apps."""
    ours = [
        config
        for config in apps.get_app_configs()
        if Path(config.path).parent == Path(settings.BASE_DIR)
    ]
    for config in ours:
        for module in pkgutil.walk_packages([config.path], f"{config.name}."):
            # Settings modules read the environment; migrations hold no forms.
            if ".settings" in module.name or ".migrations" in module.name:
                continue
            if module.name.endswith(".wsgi"):
                continue
            try:
                importlib.import_module(module.name)
            except LookupError:  # made for another database (portal.sqlite_search)
                continue
    found, seen = [], set()
    pending = list(forms.BaseForm.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in {config.name for config in ours}:
            found.append(cls)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")

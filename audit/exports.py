"""Admin lists whose spreadsheets are safe to open and are in the audit log.

Every app's coordinator exports go through here, so the formula guard and the
audit record are written once.
"""

import datetime
from collections import OrderedDict

from django.contrib.admin.utils import lookup_field
from django.utils import timezone
from wagtail_modeladmin.views import IndexView

from portal.modeladmin import DeclaredFiltersIndexView

from .services import audit_record

# Spreadsheet programs run a cell that starts with one of these as a formula;
# names typed by partners must not. https://owasp.org/www-community/attacks/CSV_Injection
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return f"'{value}"
    return value


class SafeExportIndexView(DeclaredFiltersIndexView):
    """A list whose export cannot run formulas and is recorded in the audit
    log; viewing the list is recorded too. Like every admin list, it applies
    only the filters it declares (portal.modeladmin)."""

    # The audit events for an export and for viewing the list: members of the
    # app's audit_actions enum (every subclass sets both).
    exported_action: str
    list_viewed_action: str

    custom_value_preprocess = {
        **IndexView.custom_value_preprocess,
        datetime.datetime: {
            **IndexView.custom_value_preprocess[datetime.datetime],
            IndexView.FORMAT_CSV: lambda value: timezone.localtime(value).strftime(
                "%Y-%m-%d %H:%M"
            ),
        },
        # Spreadsheet programs run "=..." and the like as a formula
        # (https://owasp.org/www-community/attacks/CSV_Injection).
        str: {IndexView.FORMAT_CSV: spreadsheet_safe},
    }

    def to_row_dict(self, item):
        # modeladmin writes "-" for an empty cell, which a spreadsheet may read
        # as a formula; and everything but dates and numbers becomes text, so
        # the guard above sees every cell.
        row = OrderedDict()
        for name in self.list_export:
            _, _, value = lookup_field(name, item, self.model_admin)
            if value is None:
                value = ""
            elif not isinstance(value, datetime.date | int | float):
                value = str(value)
            row[name] = value
        return row

    def as_spreadsheet(self, queryset, spreadsheet_format):
        # No filter values in the detail: they say little and may grow.
        audit_record(
            action=self.exported_action,
            request=self.request,
            detail={"rows": queryset.count(), "format": spreadsheet_format},
        )
        return super().as_spreadsheet(queryset, spreadsheet_format)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        audit_record(
            action=self.list_viewed_action,
            request=self.request,
            detail={"count": context["result_count"], "where": "admin"},
        )
        return context

"""What every wagtail-modeladmin screen in the project shares.

Every ModelAdmin here derives from ``PortalModelAdmin`` (tests/portal/
test_admin_lists.py checks each registered one), which gives it:

- A list that applies only what it declares. wagtail-modeladmin applies any
  query-string parameter it does not recognise as a database lookup, through
  relations too: someone who could open the guidance list read a
  coordinator's authenticator key one character at a time with
  ``?owner_person__organisation__users__totpdevice__key__startswith=...``,
  comparing the rows that came back. Django's own admin refuses such lookups
  (``ModelAdmin.lookup_allowed``); modeladmin has no such check. Here only the
  ``list_filter`` parameters, search (``q``), the page (``p``), ordering by
  the list's own columns (``o``) and, where the list has ``list_export``, the
  export apply. Anything else, and any value a declared filter cannot use
  (``x`` for an id, 30 February), is left out, and the list says so instead
  of failing.
- Object routes (edit, inspect, delete...) only for whole-number ids, so that
  letters or a number too large for the database find no route (404) instead
  of failing in the lookup (500).
- Create and edit screens that answer a refused form with 400, as every
  form in the portal does (``portal.forms.RefusedWithBadRequest``). A
  custom ``create_view_class`` or ``edit_view_class`` derives from
  ``RefusingCreateView`` or ``RefusingEditView``.
"""

from django.contrib.admin import FieldListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import (
    NotRelationField,
    get_fields_from_path,
    lookup_spawns_duplicates,
)
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from wagtail.admin import messages
from wagtail_modeladmin.helpers import AdminURLHelper, PageAdminURLHelper
from wagtail_modeladmin.options import ModelAdmin
from wagtail_modeladmin.views import CreateView, EditView, IndexView

from .forms import RefusedWithBadRequest

IGNORED_MESSAGE = (
    "Some filters in the page address are not offered on this list, or had "
    "values it could not use, so the list shows results without them."
)


class DeclaredFiltersIndexView(IndexView):
    """modeladmin's list, filtered only by what the list declares."""

    def dispatch(self, request, *args, **kwargs):
        self.ignored_parameters = set()
        if not self.model_admin.get_list_export(request):
            # A list without list_export has no export to give.
            self._ignore([self.EXPORT_VAR], request)
        return super().dispatch(request, *args, **kwargs)

    def get_filters(self, request):
        params = self.get_filters_params()
        specs, use_distinct = [], False
        for list_filter in self.list_filter or ():
            spec, field_path = self._filter_spec(list_filter, request, params)
            if not self._can_apply(spec, request):
                self._ignore(spec.expected_parameters(), request)
                spec, field_path = self._filter_spec(list_filter, request, {})
            if field_path:
                use_distinct = use_distinct or lookup_spawns_duplicates(
                    self.opts, field_path
                )
            if spec and spec.has_output():
                specs.append(spec)
        # Each filter took its own parameters out of ``params``; what is left
        # was declared by none of them and is never applied as a lookup.
        self._ignore(params, request)
        return specs, bool(specs), {}, use_distinct

    def get_context_data(self, **kwargs):
        if self.ignored_parameters:
            messages.warning(self.request, IGNORED_MESSAGE)
        return super().get_context_data(**kwargs)

    def _filter_spec(self, list_filter, request, params):
        """Build one declared filter, as modeladmin (and Django's admin) do."""
        if callable(list_filter):
            return list_filter(request, params, self.model, self.model_admin), None
        if isinstance(list_filter, tuple | list):
            field, filter_class = list_filter
        else:
            field, filter_class = list_filter, FieldListFilter.create
        field_path = None
        if not isinstance(field, models.Field):
            field_path = field
            field = get_fields_from_path(self.model, field_path)[-1]
        spec = filter_class(
            field, request, params, self.model, self.model_admin, field_path=field_path
        )
        return spec, field_path

    def _can_apply(self, spec, request) -> bool:
        """Whether each of the filter's values suits the field it looks in, and
        together they make a query (no rows are fetched)."""
        try:
            for name, value in spec.used_parameters.items():
                self._check_value(name, value)
            if spec.used_parameters:
                spec.queryset(request, self.get_base_queryset(request).none())
        except (IncorrectLookupParameters, ValidationError, ValueError):
            return False
        return True

    def _check_value(self, name, value) -> None:
        """Raise ValidationError unless ``value`` suits the field that ``name``
        looks in: ``organisation__id__exact=abc`` does not suit an id. (The
        database would only find nothing: portal.lookups.)"""
        parts = name.split(LOOKUP_SEP)
        for end in range(len(parts), 0, -1):
            try:
                path = get_fields_from_path(self.model, LOOKUP_SEP.join(parts[:end]))
            except (FieldDoesNotExist, NotRelationField):
                continue
            if parts[end:] == ["isnull"]:
                return
            field = path[-1].target_field if path[-1].is_relation else path[-1]
            for item in value if isinstance(value, list) else [value]:
                field.to_python(item)
            return
        # Not a field: a custom filter's own parameter, which it checks itself.

    def _ignore(self, names, request) -> None:
        """Leave the parameters out of the list, and out of the request too,
        so no link the page builds from it (pages, export) carries them."""
        names = [name for name in names if name in request.GET]
        if not names:
            return
        self.ignored_parameters.update(names)
        query = request.GET.copy()
        for name in names:
            del query[name]
            if name in getattr(self, "params", {}):
                del self.params[name]
        request.GET = query


class _WholeNumberIds:
    # 18 digits: below the largest 64-bit integer, which SQLite's driver
    # refuses to go beyond.
    def _get_object_specific_action_url_pattern(self, action):
        return rf"^{self.base_url_path}/{action}/(?P<instance_pk>\d{{1,18}})/$"


class WholeNumberIdURLHelper(_WholeNumberIds, AdminURLHelper):
    pass


class WholeNumberIdPageURLHelper(_WholeNumberIds, PageAdminURLHelper):
    pass


class RefusingCreateView(RefusedWithBadRequest, CreateView):
    """modeladmin's create screen; a refused form answers 400."""


class RefusingEditView(RefusedWithBadRequest, EditView):
    """modeladmin's edit screen; a refused form answers 400."""


class PortalModelAdmin(ModelAdmin):
    """The base of every ModelAdmin in the project (see the module docstring).
    A custom ``index_view_class`` must derive from DeclaredFiltersIndexView,
    a custom create or edit view from RefusingCreateView or RefusingEditView."""

    index_view_class = DeclaredFiltersIndexView
    create_view_class = RefusingCreateView
    edit_view_class = RefusingEditView

    def get_url_helper_class(self):
        if self.url_helper_class:
            return self.url_helper_class
        if self.is_pagemodel:
            return WholeNumberIdPageURLHelper
        return WholeNumberIdURLHelper

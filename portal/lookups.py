"""Integer lookups that find nothing, instead of failing, for values no row
can hold.

Wagtail looks ids from the address up as they come: its choosers with
``pk=`` (``/admin/documents/chooser/chosen/x/``) and ``pk__in``
(``/admin/choose-page/chosen-multiple/?id=x``), its admin lists'
multiple-choice filters with ``pk__in`` (``?owner=...``). Text that is not a
whole number failed with a 500 (Django raises ValueError), and so did, on
SQLite, whose driver refuses integers beyond 64 bits, ``__in`` with
``?owner=99999999999999999999`` (Django already leaves such numbers out of
exact and comparison lookups, but not out of ``__in``). Neither can equal a
stored id, so the lookup matches no row. Anything else that is not a number
(a model instance passed by mistake) still fails loudly.
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import IntegerField
from django.db.models.lookups import In
from django.db.models.lookups import IntegerFieldExact as DjangoIntegerFieldExact


class IntegerFieldExact(DjangoIntegerFieldExact):
    def get_prep_lookup(self):
        self.matches_nothing = isinstance(self.rhs, str) and not _whole_number(self.rhs)
        if self.matches_nothing:
            return self.rhs
        return super().get_prep_lookup()

    def process_rhs(self, compiler, connection):
        if self.matches_nothing:
            raise EmptyResultSet
        return super().process_rhs(compiler, connection)


class IntegerFieldIn(In):
    def get_prep_lookup(self):
        if self.rhs_is_direct_value():
            self.rhs = [
                value
                for value in self.rhs
                if not (isinstance(value, str) and not _whole_number(value))
            ]
        return super().get_prep_lookup()

    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(
                self.lhs.output_field.get_internal_type()
            )
            self.rhs = [
                value
                for value in self.rhs
                if not (
                    isinstance(value, int)
                    and (
                        (low is not None and value < low)
                        or (high is not None and value > high)
                    )
                )
            ]
        return super().process_rhs(compiler, connection)


def _whole_number(text: str) -> bool:
    try:
        int(text)
    except ValueError:  # also past Python's limit of 4,300 digits
        return False
    return True


def register() -> None:
    IntegerField.register_lookup(IntegerFieldExact)
    IntegerField.register_lookup(IntegerFieldIn)

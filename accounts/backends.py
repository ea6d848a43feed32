"""Password authentication that also respects the organisation's active flag."""

import functools
from collections.abc import Callable
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db.models import Aggregate, CharField, Exists, OuterRef, Subquery

# Between two role names in the one text the user's query brings back: the
# ASCII unit separator, which no name typed into the admin can hold.
NAME_SEPARATOR = "\x1f"


# Figures other apps read about the signed-in person on most pages, fetched
# in the same query as the person: name -> a function giving the expression
# (over the user's row). The notices app adds the unread count shown in the
# header (notices.apps); each app registers its own, so accounts imports none.
PER_REQUEST_ANNOTATIONS: dict[str, Callable] = {}


# The second-factor device the session names (its model and id), set by
# accounts.middleware.SecondFactorDeviceMiddleware while the person is read,
# so that whether it still stands (theirs, confirmed) comes in the same query:
# True or False in DEVICE_CHECKED on the user. Not set: not asked.
WANTED_DEVICE: ContextVar[tuple[type, int] | None] = ContextVar(
    "wanted_device", default=None
)
DEVICE_CHECKED = "second_factor_device_stands"


class _Names(Aggregate):
    """The names of a set of rows joined into one text (NAME_SEPARATOR
    between them): STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, CHR(31))"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            function="GROUP_CONCAT",
            template="%(function)s(%(expressions)s, CHAR(31))",
            **extra_context,
        )


class PartnerBackend(ModelBackend):
    """People at an organisation that has left the partnership cannot sign in.

    Django asks this on every request too, so open sessions end as soon as an
    administrator marks the organisation inactive.
    """

    def user_can_authenticate(self, user):
        if not super().user_can_authenticate(user):
            return False
        organisation = getattr(user, "organisation", None)
        return organisation is None or organisation.active

    def get_user(self, user_id):
        # One query for the user, the organisation and the roles (the names of
        # the user's groups), on every request: nearly every page asks for the
        # roles, and this saves that page a second round trip.
        users = _people_with_roles()
        wanted = WANTED_DEVICE.get()
        if wanted is not None:
            model, device_id = wanted
            stands = model.objects.filter(
                pk=device_id, user=OuterRef("pk"), confirmed=True
            )
            users = users.annotate(**{DEVICE_CHECKED: Exists(stands)})
        user = users.filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        joined = user.__dict__.pop("group_names")
        user._role_names = set(joined.split(NAME_SEPARATOR)) if joined else set()
        return user


@functools.cache
def _people_with_roles():
    """The query ``get_user`` filters, built once per process: putting the
    subqueries together cost more than running them. Never evaluated itself,
    only copied by ``filter``; apps register their figures in ``ready()``,
    before any request."""
    names = (
        Group.objects.filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(names=_Names("name"))
        .values("names")
    )
    return (
        get_user_model()
        ._default_manager.select_related("organisation")
        .annotate(group_names=Subquery(names))
        .annotate(**{name: make() for name, make in PER_REQUEST_ANNOTATIONS.items()})
    )

"""Password authentication that also respects the organisation's active flag."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


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
        # One query for the user and the organisation, on every request.
        users = get_user_model()._default_manager.select_related("organisation")
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

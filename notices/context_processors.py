from .selectors import unread_count


def notices(request) -> dict:
    """How many unread notices the signed-in, verified person has, for the
    "What's new" link in the header: one count query per page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {}
    return {"notices_unread": lambda: unread_count(user)}

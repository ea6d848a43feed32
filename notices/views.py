"""A person's own "What's new" list, opening a notice, marking all read, and
their email choices. Every page needs a verified second factor (the one
gate); ``selectors`` keeps each person to their own notices."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from audit.services import audit_record
from portal.forms import refusal_status

from . import selectors
from .audit_actions import NoticeAction
from .forms import EmailChoicesForm
from .models import ALWAYS_EMAILED, NoticeKind
from .services import email_choices_save, notice_open, notices_mark_all_read

PER_PAGE = 25


def index(request):
    notices = selectors.notices_for(request.user)
    page = Paginator(notices, PER_PAGE).get_page(request.GET.get("page"))
    audit_record(
        action=NoticeAction.LIST_VIEWED,
        request=request,
        detail={"page": page.number, "count": len(page)},
    )
    return render(
        request,
        "notices/index.html",
        {"page": page, "unread": selectors.unread_count(request.user)},
    )


def open_notice(request, notice_id):
    """Mark the notice read and go where it points."""
    notice = notice_open(user=request.user, notice_id=notice_id, request=request)
    # Links are portal paths (a database constraint); checked again here so
    # that this can never send anyone to another site.
    if not url_has_allowed_host_and_scheme(notice.link, allowed_hosts=None):
        return redirect("notices:index")
    return redirect(notice.link)


@require_POST
def mark_all_read(request):
    marked = notices_mark_all_read(user=request.user, request=request)
    if marked:
        messages.success(request, "Everything in What's new is marked as read.")
    return redirect("notices:index")


def email_choices(request):
    form = EmailChoicesForm(
        request.POST or None, initial=selectors.email_choices(request.user)
    )
    if request.method == "POST" and form.is_valid():
        email_choices_save(
            user=request.user, choices=form.cleaned_data, request=request
        )
        messages.success(request, "Your email choices are saved.")
        return redirect("notices:email_choices")
    always = [kind.label for kind in NoticeKind if kind in ALWAYS_EMAILED]
    return render(
        request,
        "notices/email_choices.html",
        {"form": form, "always": always},
        status=refusal_status(form),
    )

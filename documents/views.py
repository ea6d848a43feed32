"""Sharing files between agencies: the list, sharing, a share's page (with who
has opened each file), downloads, shortening the expiry and recall.

Every view is behind the second-factor gate, reads shares only through the
selectors (404 for anyone not entitled) and writes an audit event.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Organisation, Role
from agreements.selectors import organisations_in_good_standing
from audit.services import audit_read, audit_record
from files.checks import too_large_message
from files.downloads import missing_file_page, private_file_response
from files.stored import StorageUnavailable
from meetings.models import Meeting
from meetings.selectors import meetings_visible_to
from portal import freshness
from portal.errors import RETRY_AFTER_SECONDS
from referrals.selectors import referrals_visible_to

from . import selectors
from .audit_actions import DocumentAction
from .forms import RecallForm, ShareForm, ShortenExpiryForm, end_of_day
from .services import (
    FilesRefused,
    ShareRefused,
    file_download_record,
    may_manage,
    share_create,
    share_expiry_shorten,
    share_recall,
)

PAGE_SIZE = 25
TABS = {
    "received": "Received",
    "sent": "Sent",
    "all": "All shares",
}


def _exchange_only(user) -> None:
    if not selectors.may_exchange(user):
        raise Http404("Sharing files is for partner agency staff")


def index(request):
    user = request.user
    tabs = dict(TABS)
    if not user.has_role(Role.COORDINATOR):
        tabs.pop("all")
    tab = request.GET.get("show", "received")
    if tab not in tabs:
        tab = "received"
    listing = _listing(user, tab, tabs[tab], request.GET.get("page"))
    audit_record(
        action=DocumentAction.LIST_VIEWED,
        request=request,
        detail={"show": tab, "page": listing["number"], "count": listing["count"]},
    )
    return render(
        request,
        "documents/index.html",
        {
            "tabs": tabs,
            "tab": tab,
            "listing": mark_safe(listing["html"]),  # noqa: S308  (our template's)
            "may_share": selectors.may_exchange(user),
            "unopened": listing["unopened"],
        },
    )


# One page of a tab is the same for everyone with the same roles at the same
# organisation (which files are new is per organisation too), so it is built
# once and shared by every server for a minute, or until anything in the
# portal changes: a download, a recall or a new share included. Each view is
# still audited, and downloads are checked again when they happen.
LISTING_SECONDS = 60


def _listing(user, tab: str, tab_label: str, number) -> dict:
    def build():
        shares = {
            "received": selectors.shares_received,
            "sent": selectors.shares_sent,
            "all": selectors.shares_all,
        }[tab](user)
        page = Paginator(shares, PAGE_SIZE).get_page(number)
        now = timezone.now()
        for item in page.object_list:
            # "New": live, sent to us, and one of its files not yet opened by us.
            item.is_new = (
                tab == "received"
                and item.is_live(now)
                and any(not f.opened_by_us for f in item.files.all())
            )
        html = render_to_string(
            "documents/includes/list.html",
            {"tab": tab, "tab_label": tab_label, "page": page},
        )
        return {
            "html": html,
            "number": page.number,
            "count": len(page.object_list),
            "unopened": selectors.unopened_count(user),
        }

    return freshness.remember(
        ("documents:list", *freshness.audience(user), tab, str(number)[:12]),
        build,
        LISTING_SECONDS,
        tokens=(freshness.PORTAL, freshness.OPENINGS),  # "New" is per opening
    )


def _share_form(request, data=None, files=None):
    user = request.user
    referrals = referrals_visible_to(user)

    def lookup(reference):
        return referrals.filter(reference=reference).first()

    # Only parties to the ISA in force that acknowledged it may receive files.
    organisations = Organisation.objects.filter(
        pk__in=organisations_in_good_standing()
    ).exclude(pk=user.organisation_id)
    # The 50 latest: a select longer than that is no help to anyone.
    latest = meetings_visible_to(user).values_list("pk", flat=True)[:50]
    initial = {}
    if reference := request.GET.get("referral"):
        initial.update(target="referral", referral=reference)
    if (meeting := request.GET.get("meeting", "")).isdigit():
        initial.update(target="meeting", meeting=int(meeting))
    return ShareForm(
        data,
        files,
        initial=initial,
        organisations=organisations,
        referral_lookup=lookup,
        meetings=Meeting.objects.filter(pk__in=list(latest)).order_by("-starts_at"),
    )


def new(request):
    """Share files. Without JavaScript it is a plain form; with it, the page
    shows upload progress (static/js/portal.js)."""
    user = request.user
    _exchange_only(user)
    if request.method != "POST":
        return render(request, "documents/new.html", {"form": _share_form(request)})
    form = _share_form(request, request.POST, request.FILES)
    oversized = getattr(request, "uploads_refused_for_size", [])
    valid = form.is_valid()
    for name in oversized:
        # The handler dropped the file before storing it; say so by the field.
        if "files" in form.errors:
            form.errors["files"].clear()
        form.add_error("files", too_large_message(name))
        valid = False
    if valid:
        try:
            share, created = share_create(
                user=user,
                uploads=form.cleaned_data["files"],
                note=form.cleaned_data["note"],
                expires_at=form.expires_at(),
                submission_key=form.cleaned_data["submission_key"],
                request=request,
                **form.recipients(),
            )
        except FilesRefused as exc:
            for problem in exc.problems:
                form.add_error("files", problem)
        except ShareRefused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        except StorageUnavailable as exc:
            # A full, read-only or unreachable file store: nothing was kept.
            # The form comes back as filled in (files must be chosen again).
            form.add_error("files", exc.message)
            response = render(request, "documents/new.html", {"form": form}, status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        else:
            if created:
                messages.success(
                    request,
                    f"{share.files.count()} file"
                    f"{'s' if share.files.count() != 1 else ''} shared with "
                    f"{', '.join(str(r) for r in share.recipients.all())}.",
                )
            return redirect(share)
    return render(request, "documents/new.html", {"form": form}, status=400)


def _share_page(request, item, *, shorten_form=None, status=200):
    manage = may_manage(request.user, item)
    recipients = item.recipients.select_related("organisation")
    return render(
        request,
        "documents/share.html",
        {
            "share": item,
            "files": list(item.files.all()),
            "recipients": [r.organisation for r in recipients],
            "may_manage": manage,
            "openings": selectors.openings(item) if manage else None,
            "shorten_form": shorten_form or ShortenExpiryForm(prefix="shorten"),
        },
        status=status,
    )


def share(request, share_id):
    item = selectors.share_for(request.user, share_id)
    audit_read(request, item, detail={"files": item.files.count()})
    return _share_page(request, item)


@require_GET
def download(request, share_id, file_id):
    """Stream the file. The authorising check runs before anything else, so an
    unauthorised request gets 404 whatever conditional headers it sends."""
    user = request.user
    item = selectors.file_for_download(user, share_id, file_id)
    try:
        # Opened before the download is recorded: a missing file is not one.
        response = private_file_response(
            file=item.file,
            name=item.display_name,
            content_type=item.content_type,
            size=item.size,
        )
    except FileNotFoundError:
        return missing_file_page(
            request,
            obj=item,
            name=item.display_name,
            action=DocumentAction.DOWNLOAD_FAILED,
            sender=str(item.share.sender_organisation),
            back_url=item.share.get_absolute_url(),
        )
    try:
        file_download_record(item=item, user=user, request=request)
    except BaseException:
        response.close()
        raise
    return response


def _managed_share(request, share_id):
    item = selectors.share_for(request.user, share_id)
    if not may_manage(request.user, item):
        raise Http404("Only the sending organisation can change this share")
    return item


@require_POST
def shorten(request, share_id):
    item = _managed_share(request, share_id)
    form = ShortenExpiryForm(request.POST, prefix="shorten")
    if form.is_valid():
        try:
            share_expiry_shorten(
                share=item,
                user=request.user,
                expires_at=end_of_day(form.cleaned_data["expires"]),
                request=request,
            )
        except ShareRefused as exc:
            form.add_error("expires", str(exc))
        else:
            messages.success(request, "The expiry date has been brought forward.")
            return redirect(item)
    return _share_page(request, item, shorten_form=form, status=400)


def recall(request, share_id):
    item = _managed_share(request, share_id)
    if item.recalled_at is not None:
        return redirect(item)
    form = RecallForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        share_recall(
            share=item,
            user=request.user,
            reason=form.cleaned_data["reason"],
            request=request,
        )
        messages.success(
            request, "The files have been recalled. Nobody can download them now."
        )
        return redirect(item)
    return render(
        request,
        "documents/recall.html",
        {"share": item, "form": form, "cancel": item.get_absolute_url()},
        status=400 if form.errors else 200,
    )

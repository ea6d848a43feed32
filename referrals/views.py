"""The referral form (task list, sections, check answers, submit) and case pages.

Every view is for verified users only (the second-factor gate), refuses
organisations whose ISA acknowledgement is overdue (``case_material``) and
reads referrals and drafts only through the selectors.
"""

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.models import Role
from agreements.access import case_material
from audit.services import audit_read, audit_record
from portal import freshness
from portal.forms import NULL_CHARACTER_MESSAGE, contains_null_character, error_list
from portal.pdf import render_pdf

from . import selectors
from .answers import all_answers, bind, raw_from_post, repeat_add, repeat_remove
from .forms import (
    SECTIONS,
    SECTIONS_BY_SLUG,
    AttachmentForm,
    DeclarationForm,
)
from .models import EventKind, SectionState, Status
from .services import (
    NEEDS_REASON,
    DraftConflict,
    DraftIncomplete,
    ReferralRefused,
    allowed_next,
    attachment_add,
    attachment_remove,
    draft_delete,
    draft_problems,
    draft_save,
    draft_start,
    information_provide,
    referral_submit,
    referral_transition,
)

REFERRALS_PER_PAGE = 25


@case_material
def index(request):
    """The person's drafts and the referrals they can see, 25 to a page."""
    user = request.user
    listing = _listing(user, request.GET.get("page"))
    audit_record(
        action="referral.list_viewed",
        request=request,
        detail={"page": listing["number"], "count": listing["count"]},
    )
    return render(
        request,
        "referrals/index.html",
        {
            "drafts": selectors.drafts_of(user),
            "listing": mark_safe(listing["html"]),  # noqa: S308  (our template's)
            "may_refer": user.organisation_id is not None
            and user.has_role(Role.REFERRER),
            "may_screen": selectors.may_screen(user),
        },
    )


# One page of the list is the same for everyone with the same roles at the
# same organisation, so it is rendered once and shared by every server for a
# minute, or until any referral (or anything else in the portal) changes.
# Each view is still audited.
LISTING_SECONDS = 60


def _listing(user, number) -> dict:
    def build():
        page = selectors.referrals_page(user, number, REFERRALS_PER_PAGE)
        html = render_to_string(
            "referrals/includes/list.html",
            {
                "page": page,
                "referrals": [
                    (referral, selectors.redaction_for(user, referral) is None)
                    for referral in page.object_list
                ],
            },
        )
        return {"html": html, "number": page.number, "count": len(page)}

    return freshness.remember(
        ("referrals:list", *freshness.audience(user), str(number)[:12]),
        build,
        LISTING_SECONDS,
    )


@require_POST
@case_material
def start(request):
    """Start a draft, empty or from one of the organisation's earlier referrals."""
    source = None
    if request.POST.get("from"):
        source = selectors.referral_for(request.user, request.POST["from"])
    if not request.user.has_role(Role.REFERRER):
        raise Http404("Only referrers can start a referral")
    try:
        draft = draft_start(user=request.user, request=request, from_referral=source)
    except ReferralRefused as exc:
        messages.error(request, str(exc))
        return redirect("referrals:index")
    if source is not None:
        messages.info(
            request,
            f"We copied the people, household, behaviour and actions from "
            f"{source.reference}. Check each section: nothing is marked complete "
            "until you save it.",
        )
    return redirect("referrals:task_list", draft.public_id)


def _task_rows(draft):
    return [
        {
            "section": section,
            "state": SectionState(draft.state(section.slug)),
            "url": reverse("referrals:section", args=[draft.public_id, section.slug]),
        }
        for section in SECTIONS
    ]


def _open_draft(request, draft_id):
    """The person's draft; a submitted one sends them to its referral."""
    draft = selectors.draft_for(request.user, draft_id)
    if draft.is_submitted:
        return draft, redirect("referrals:submitted", draft.referral.reference)
    return draft, None


@case_material
def task_list(request, draft_id):
    draft, done = _open_draft(request, draft_id)
    if done:
        return done
    rows = _task_rows(draft)
    audit_read(request, draft)
    return render(
        request,
        "referrals/task_list.html",
        {
            "draft": draft,
            "rows": rows,
            "completed": sum(row["state"] == SectionState.COMPLETED for row in rows),
        },
    )


def _referrer_initial(user) -> dict:
    return {
        "name": user.get_full_name(),
        "job_title": user.job_title,
        "email": user.email,
        "phone": user.phone,
    }


def _list_buttons(post, current, raw) -> tuple[dict, str | None, str]:
    """Apply an "Add another" or "Remove" button. Returns the raw data, the
    anchor of the item to show (None if no such button was pressed) and what
    to tell the person."""
    action = post.get("action", "")
    remove = post.get("remove", "")
    for repeat in current.repeats:
        if action == f"add-{repeat.prefix}":
            raw = repeat_add(raw, repeat)
            count = int(raw[f"{repeat.prefix}-TOTAL_FORMS"][0])
            return raw, f"{repeat.prefix}-{count - 1}", ""
        prefix, _, index = remove.rpartition("-")
        if prefix == repeat.prefix and index.isdigit():
            noun = repeat.noun[0].upper() + repeat.noun[1:]
            return (
                repeat_remove(raw, repeat, int(index)),
                f"add-{repeat.prefix}",
                f"{noun} {int(index) + 1} was removed.",
            )
    return raw, None, ""


def _posted_revision(post) -> int | None:
    value = post.get("revision", "")
    return int(value) if value.isdigit() else None


@case_material
def section(request, draft_id, slug):
    draft, done = _open_draft(request, draft_id)
    if done:
        return done
    current = SECTIONS_BY_SLUG.get(slug)
    if current is None:
        raise Http404("No such section")
    attachment_form = AttachmentForm() if current.attachments else None
    returning = request.POST.get("return_to") or request.GET.get("return")
    if request.method == "GET":
        raw = draft.answers.get(current.slug)
        initial = _referrer_initial(request.user) if slug == "referrer" else None
        bound = bind(current, raw, initial)
        # A page left unfinished comes back as it was, without error messages,
        # unless the person came from the list of problems on check answers.
        if raw is not None and request.GET.get("check") != "1":
            bound.quiet()
        audit_read(request, draft)
        return _render_section(
            request, draft, current, bound, attachment_form, returning
        )

    action = request.POST.get("action", "save")
    raw = raw_from_post(request.POST)
    if contains_null_character(raw):
        # PostgreSQL cannot keep a NUL: nothing is saved, and the page comes
        # back as typed with the error next to the answer holding it.
        if action == "autosave":
            return JsonResponse({"saved": False}, status=400)
        bound = bind(current, raw)
        if not any(NULL_CHARACTER_MESSAGE in message for _, message in bound.errors()):
            # Not in any answer: the request was made by hand.
            raise BadRequest("A NUL character outside the answers")
        return _render_section(
            request, draft, current, bound, attachment_form, returning
        )
    raw, shown_item, list_message = _list_buttons(request.POST, current, raw)
    upload_error = None
    if current.attachments and request.FILES.get("risk_assessment"):
        try:
            attachment_add(
                draft=draft,
                upload=request.FILES["risk_assessment"],
                user=request.user,
                request=request,
            )
        except ReferralRefused as exc:
            upload_error = str(exc)
    try:
        complete = draft_save(
            draft=draft,
            section=current,
            raw=raw,
            user=request.user,
            request=request,
            autosave=action == "autosave",
            revision=_posted_revision(request.POST),
        )
    except ReferralRefused as exc:  # submitted in another tab meanwhile
        messages.info(request, str(exc))
        return redirect("referrals:index")
    except DraftConflict:
        if action == "autosave":
            return JsonResponse({"saved": False, "conflict": True}, status=409)
        # Saved in another window since this page was shown: show what this
        # person typed, say so, and let a second save keep it.
        return _render_section(
            request, draft, current, bind(current, raw), attachment_form, returning,
            conflict=True,
        )  # fmt: skip
    if action == "autosave":
        return JsonResponse(
            {"saved": True, "complete": complete, "revision": draft.revision(slug)}
        )
    if action == "later":
        messages.success(request, f"'{current.title}' is saved. Come back to it "
                         "any time from your referrals.")  # fmt: skip
        return redirect("referrals:task_list", draft.public_id)
    if upload_error is None and shown_item is not None:
        if list_message:
            messages.success(request, list_message)
        url = reverse("referrals:section", args=[draft.public_id, slug])
        query = "?return=check" if returning == "check" else ""
        return redirect(f"{url}{query}#{shown_item}")
    if complete and upload_error is None:
        if returning == "check":
            return redirect("referrals:check", draft.public_id)
        return redirect(_next_url(draft, current))
    bound = bind(current, raw)
    if upload_error:
        attachment_form.add_error("risk_assessment", upload_error)
        if complete:
            bound.quiet()
    return _render_section(request, draft, current, bound, attachment_form, returning)


def _next_url(draft, current):
    """After a complete page: the next unfinished section, or check answers."""
    order = [section.slug for section in SECTIONS]
    for slug in order[order.index(current.slug) + 1 :] + order:
        if draft.state(slug) != SectionState.COMPLETED:
            return reverse("referrals:section", args=[draft.public_id, slug])
    return reverse("referrals:check", args=[draft.public_id])


def _render_section(
    request, draft, current, bound, attachment_form, returning, conflict=False
):
    errors = bound.errors() if bound.is_bound else []
    if attachment_form is not None and attachment_form.errors:
        errors = error_list(attachment_form) + errors
    position = SECTIONS.index(current) + 1
    return render(
        request,
        "referrals/section.html",
        {
            "draft": draft,
            "current": current,
            "bound": bound,
            "errors": errors,
            "position": position,
            "count": len(SECTIONS),
            "attachment_form": attachment_form,
            "attachments": draft.attachments.filter(referral__isnull=True)
            if current.attachments
            else [],
            "returning_to_check": returning == "check",
            "revision": draft.revision(current.slug),
            "conflict": conflict,
        },
    )


@require_POST
@case_material
def remove_attachment(request, draft_id, attachment_id):
    draft, done = _open_draft(request, draft_id)
    if done:
        return done
    attachment = get_object_or_404(draft.attachments, pk=attachment_id)
    try:
        attachment_remove(
            draft=draft, attachment=attachment, user=request.user, request=request
        )
    except ReferralRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{attachment.original_name} was removed.")
    return redirect("referrals:section", draft.public_id, "risk")


@case_material
def check(request, draft_id):
    """Check your answers, the declaration, and submit."""
    draft, done = _open_draft(request, draft_id)
    if done:
        return done
    form = DeclarationForm(request.POST if request.method == "POST" else None)
    problems = draft_problems(draft)
    if request.method == "POST" and form.is_valid() and not problems:
        try:
            referral, _created = referral_submit(
                draft=draft, user=request.user, request=request
            )
        except DraftIncomplete as exc:
            problems = exc.problems
        except ReferralRefused as exc:
            messages.info(request, str(exc))
            return redirect("referrals:index")
        else:
            return redirect("referrals:submitted", referral.reference)
    previews = {}
    for current in SECTIONS:
        raw = draft.answers.get(current.slug)
        bound = bind(current, raw) if raw is not None else None
        if bound is not None and bound.is_valid():
            previews[current.slug] = bound.cleaned()
    audit_read(request, draft)
    return render(
        request,
        "referrals/check.html",
        {
            "draft": draft,
            "form": form,
            "problems": problems,
            "show_problems": request.method == "POST",
            "answers": all_answers(previews),
            "complete": set(previews),
            "attachments": draft.attachments.filter(referral__isnull=True),
        },
    )


@case_material
def delete_draft(request, draft_id):
    draft, done = _open_draft(request, draft_id)
    if done:
        return done
    if request.method == "POST":
        draft_delete(draft=draft, user=request.user, request=request)
        messages.success(request, "Your draft referral was deleted.")
        return redirect("referrals:index")
    return render(request, "referrals/delete_draft.html", {"draft": draft})


@case_material
def submitted(request, reference):
    referral = selectors.referral_for(request.user, reference)
    audit_read(request, referral)
    return render(request, "referrals/submitted.html", {"referral": referral})


def _case_context(request, referral):
    user = request.user
    redact = selectors.redaction_for(user, referral)
    sees_all = selectors.sees_everything(user, referral)
    return {
        "referral": referral,
        "sections": all_answers(referral.answers, redact=redact, brief=True),
        "redacted": redact is not None,
        "sees_all": sees_all,
        "events": referral.events.select_related("actor") if sees_all else [],
        "attachments": referral.attachments.all(),
        "earlier": selectors.earlier_referrals(referral)
        if selectors.may_screen(user)
        else [],
    }


@case_material
def detail(request, reference):
    referral = selectors.referral_for(request.user, reference)
    user = request.user
    context = _case_context(request, referral)
    context.update(
        {
            "may_screen": selectors.may_screen(user),
            "next_statuses": [Status(s) for s in allowed_next(referral.status)]
            if selectors.may_screen(user)
            else [],
            "needs_reason": {s.value: m for s, m in NEEDS_REASON.items()},
            "may_answer": referral.status == Status.INFORMATION_REQUESTED
            and user.organisation_id == referral.organisation_id
            and user.has_role(Role.REFERRER),
            "may_start_from": selectors.may_start_from(user, referral),
            "refusal": request.session.pop("referral_refusal", None),
            "information_request": referral.events.filter(
                kind=EventKind.INFORMATION_REQUESTED
            ).last(),
        }
    )
    audit_read(request, referral)
    return render(request, "referrals/detail.html", context)


@require_POST
@case_material
def change_status(request, reference):
    referral = selectors.referral_for(request.user, reference)
    if not selectors.may_screen(request.user):
        raise Http404("Only coordinators change a referral's status")
    try:
        referral_transition(
            referral=referral,
            to_status=request.POST.get("to_status", ""),
            expected_status=request.POST.get("expected_status", ""),
            reason=request.POST.get("reason", ""),
            redirected_to=request.POST.get("redirected_to", ""),
            feedback=request.POST.get("feedback", ""),
            user=request.user,
            request=request,
        )
    except (ReferralRefused, ValueError) as exc:
        message = (
            str(exc) if isinstance(exc, ReferralRefused) else "Select a new status"
        )
        request.session["referral_refusal"] = {
            "form": "status",
            "message": message,
            "to_status": request.POST.get("to_status", ""),
            "reason": request.POST.get("reason", ""),
            "redirected_to": request.POST.get("redirected_to", ""),
            "feedback": request.POST.get("feedback", ""),
        }
        return redirect(f"{referral.get_absolute_url()}#change-status")
    messages.success(
        request,
        f"{referral.reference} is now '{Status(request.POST['to_status']).label}'.",
    )
    return redirect(referral)


@require_POST
@case_material
def answer(request, reference):
    referral = selectors.referral_for(request.user, reference)
    try:
        information_provide(
            referral=referral,
            user=request.user,
            message=request.POST.get("message", ""),
            request=request,
        )
    except ReferralRefused as exc:
        request.session["referral_refusal"] = {
            "form": "answer",
            "message": str(exc),
            "answer": request.POST.get("message", ""),
        }
        return redirect(f"{referral.get_absolute_url()}#answer")
    messages.success(request, "Your answer was sent to the coordinators.")
    return redirect(referral)


@case_material
def summary_pdf(request, reference):
    referral = selectors.referral_for(request.user, reference)
    context = _case_context(request, referral)
    context["viewer"] = request.user
    pdf = render_pdf("referrals/pdf/referral.html", context, request=request)
    audit_record(
        action="referral.pdf_downloaded",
        request=request,
        obj=referral,
        detail={"redacted": context["redacted"]},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{referral.reference}-summary.pdf"'
    )
    return response


@case_material
def attachment(request, reference, attachment_id):
    referral = selectors.referral_for(request.user, reference)
    item = get_object_or_404(referral.attachments, pk=attachment_id)
    audit_record(
        action="referral.attachment_downloaded",
        request=request,
        obj=item,
        detail={"reference": referral.reference},
    )
    return FileResponse(
        item.file.open("rb"),
        as_attachment=True,
        filename=item.original_name,
        content_type=item.content_type,
    )

"""The referral form (task list, sections, check answers, submit) and case pages.

Every view is for verified users only (the second-factor gate), is closed to
anyone the agreement does not let see case material (the structural gate in
``agreements.middleware``) and reads referrals and drafts only through the
selectors.
"""

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.models import Organisation, Role
from audit.models import Outcome
from audit.services import audit_read, audit_record
from files.checks import too_large_message
from files.downloads import missing_file_page, private_file_response
from portal import freshness, page_cache
from portal.forms import (
    NULL_CHARACTER_MESSAGE,
    contains_null_character,
    error_list,
    refusal_status,
)
from portal.pdf import render_pdf

from . import redaction, selectors
from .answers import all_answers, bind, raw_from_post, repeat_add, repeat_remove
from .audit_actions import ReferralAction
from .forms import (
    SECTIONS,
    SECTIONS_BY_SLUG,
    AttachmentForm,
    DeclarationForm,
    ShareChangeForm,
    ShareGrantForm,
    SharingWithoutConsentForm,
)
from .models import EventKind, FreeTextReviewKind, SectionState, Status
from .services import (
    ATTACHMENT_SUBJECT,
    NEEDS_REASON,
    DraftConflict,
    DraftIncomplete,
    FreeTextReviewNeeded,
    ReferralRefused,
    attachment_add,
    attachment_default_visibility,
    attachment_remove,
    case_note_add,
    draft_delete,
    draft_problems,
    draft_save,
    draft_start,
    free_text_review_record,
    information_provide,
    may_add_note,
    may_withdraw,
    referral_share_end,
    referral_share_extend,
    referral_share_grant,
    referral_submit,
    referral_transition,
    referral_withdraw,
    restriction_in_force,
    screening_next,
    share_end_of_day,
    sharing_without_consent_approve,
)

REFERRALS_PER_PAGE = 25


def index(request):
    """The person's drafts and the referrals they can see, 25 to a page."""
    user = request.user
    listing = _listing(user, request.GET.get("page"))
    audit_record(
        action=ReferralAction.LIST_VIEWED,
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


def section(request, draft_id, slug):
    draft, done = _open_draft(request, draft_id)
    if done:
        return done
    current = SECTIONS_BY_SLUG.get(slug)
    if current is None:
        raise Http404("No such section")
    attachment_form = None
    if current.attachments:
        initial = {"risk_assessment_visibility": attachment_default_visibility(draft)}
        attachment_form = (
            AttachmentForm(request.POST, request.FILES, initial=initial)
            if request.method == "POST"
            else AttachmentForm(initial=initial)
        )
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
    upload_refused = (
        _attachment_refused(request, draft, attachment_form)
        if attachment_form is not None
        else False
    )
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
    bound = bind(current, raw)
    if upload_refused:
        # The answers are saved; the page comes back as typed, with the file's
        # problem by its field and in the summary, whichever button was used.
        if complete:
            bound.quiet()
        return _render_section(
            request, draft, current, bound, attachment_form, returning, status=400
        )
    if action == "later":
        messages.success(request, f"'{current.title}' is saved. Come back to it "
                         "any time from your referrals.")  # fmt: skip
        return redirect("referrals:task_list", draft.public_id)
    if shown_item is not None:
        if list_message:
            messages.success(request, list_message)
        url = reverse("referrals:section", args=[draft.public_id, slug])
        query = "?return=check" if returning == "check" else ""
        return redirect(f"{url}{query}#{shown_item}")
    if complete:
        if returning == "check":
            return redirect("referrals:check", draft.public_id)
        return redirect(_next_url(draft, current))
    return _render_section(request, draft, current, bound, attachment_form, returning)


def _attachment_refused(request, draft, form) -> bool:
    """Attach the posted file, if any; True, with the reason on the form's
    field, when it was refused."""
    if getattr(request, "uploads_refused_for_size", None):
        # The upload handler dropped it while it arrived (files.uploads).
        form.add_error("risk_assessment", too_large_message(ATTACHMENT_SUBJECT))
        return True
    if not form.is_valid():
        return True
    upload = form.cleaned_data["risk_assessment"]
    if not upload:
        return False
    try:
        attachment_add(
            draft=draft,
            upload=upload,
            user=request.user,
            request=request,
            visibility=form.cleaned_data["risk_assessment_visibility"],
        )
    except ReferralRefused as exc:
        form.add_error("risk_assessment", str(exc))
        return True
    return False


def _next_url(draft, current):
    """After a complete page: the next unfinished section, or check answers."""
    order = [section.slug for section in SECTIONS]
    for slug in order[order.index(current.slug) + 1 :] + order:
        if draft.state(slug) != SectionState.COMPLETED:
            return reverse("referrals:section", args=[draft.public_id, slug])
    return reverse("referrals:check", args=[draft.public_id])


def _render_section(
    request, draft, current, bound, attachment_form, returning, conflict=False,
    status=200,
):  # fmt: skip
    errors = bound.errors() if bound.is_bound else []
    if attachment_form is not None and attachment_form.errors:
        errors = error_list(attachment_form) + errors
    position = SECTIONS.index(current) + 1
    if request.method == "POST" and errors:
        status = 400  # a refused post (a GET from check answers shows them too)
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
            "rows": _task_rows(draft),
        },
        status=status,
    )


@require_POST
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
        status=refusal_status(
            form, errors=problems if request.method == "POST" else ()
        ),
    )


def delete_draft(request, draft_id):
    draft, done = _open_draft(request, draft_id)
    if done:
        return done
    if request.method == "POST":
        draft_delete(draft=draft, user=request.user, request=request)
        messages.success(request, "Your draft referral was deleted.")
        return redirect("referrals:index")
    return render(request, "referrals/delete_draft.html", {"draft": draft})


def submitted(request, reference):
    referral = selectors.referral_for(request.user, reference)
    audit_read(request, referral)
    return render(request, "referrals/submitted.html", {"referral": referral})


def _case_context(request, referral, *, shared_material: bool = False):
    """What the case page and its PDF show. With ``shared_material`` (the
    page), the answers, summary and files come as one fragment rendered once
    for everyone alike (``_case_material``); the PDF renders them itself."""
    user = request.user
    sees_all = selectors.sees_everything(user, referral)
    if shared_material:
        material = {"case_material": _case_material(user, referral)}
    else:
        view = selectors.case_view_for(user, referral)
        material = {
            "sections": view.sections,
            "partner_summary": view.partner_summary,
            "attachments": view.attachments,
        }
    return {
        # Every agency that sees the case sees that it is restricted, and
        # since when; the reason may name the person, so only coordinators
        # read it (docs/features.md, "Restriction").
        "restriction": restriction_in_force(referral),
        "restrictions": list(referral.restrictions.all())
        if selectors.may_screen(user)
        else [],
        "corrections": selectors.amendments_for(user, referral),
        "referral": referral,
        **material,
        "redacted": selectors.redaction_for(user, referral) is not None,
        "sees_all": sees_all,
        "events": referral.events.select_related("actor") if sees_all else [],
        "earlier": selectors.earlier_referrals(referral)
        if selectors.may_screen(user)
        else [],
    }


# The case's answers, partner summary and files as one audience may see them
# (organisation and roles decide what is withheld) are rendered once and
# shared for at most a minute: personal data (docs/caching.md). The key holds
# a digest of the referral's row, so an answer changed even without a signal
# gets a new key; any saved change or disposal replaces the "portal" token.
CASE_MATERIAL_SECONDS = 60


def _case_material(user, referral) -> str:
    def build():
        view = selectors.case_view_for(user, referral)
        return render_to_string(
            "referrals/includes/case_material.html",
            {
                "referral": referral,
                "sections": view.sections,
                "partner_summary": view.partner_summary,
                "attachments": view.attachments,
            },
        )

    html = freshness.remember(
        ("referrals:case", *freshness.audience(user), referral.pk,
         freshness.row_digest(referral)),
        build,
        CASE_MATERIAL_SECONDS,
    )  # fmt: skip
    return mark_safe(html)  # noqa: S308  (our template's output)


def detail(request, reference):
    referral = selectors.referral_for(request.user, reference)
    return _case_page(request, referral)


def _case_page(request, referral, refusal: dict | None = None):
    """The case page; with ``refusal`` (a form on it was refused: which form,
    the message, where it links and what was typed), the page again with the
    error by its field and everything typed kept, as 400 Bad Request."""
    if refusal:
        body = _case_body(request, referral, refusal)["html"]
    else:
        body = _kept_case_body(request, referral)
    body = mark_safe(body)  # noqa: S308  (our template's output)
    audit_read(request, referral)
    return render(
        request,
        "referrals/detail.html",
        {"referral": referral, "refusal": refusal, "case_page": body},
        status=400 if refusal else 200,
    )


# The case page's body (all but the header and menu around it) as one
# audience sees it is rendered once and shared for at most a minute: personal
# data (docs/caching.md). Whether the person may see the case at all is
# decided afresh on every request (``selectors.referral_for``), and every view
# is audited. Any saved change or disposal replaces the "portal" token; the
# key also holds a digest of the referral's row (a change written without a
# signal) and the date (a restriction ends with its last day). A share that
# ends within the minute drops the kept body (``until``).
CASE_PAGE_SECONDS = 60


def _kept_case_body(request, referral) -> str:
    def build():
        built = _case_body(request, referral)
        return {**built, "html": page_cache.csrf_cut(built["html"])}

    kept = freshness.remember(
        ("referrals:page", *freshness.audience(request.user), referral.pk,
         freshness.row_digest(referral), timezone.localdate().isoformat()),
        build,
        CASE_PAGE_SECONDS,
    )  # fmt: skip
    if kept["until"] is not None and kept["until"] <= timezone.now():
        kept = _case_body(request, referral)  # a share shown has ended since
    return page_cache.csrf_filled(request, kept["html"])


def _case_body(request, referral, refusal: dict | None = None) -> dict:
    """The case page's body, drawn (``html``), and when the first share it
    lists ends (``until``; None if it lists none)."""
    user = request.user
    context = _case_context(request, referral, shared_material=True)
    may_answer = (
        referral.status == Status.INFORMATION_REQUESTED
        and user.organisation_id == referral.organisation_id
        and user.has_role(Role.REFERRER)
    )
    access = (
        list(selectors.shares_in_force(referral))
        if selectors.may_see_access(user, referral)
        else None
    )
    context.update(
        {
            "may_screen": selectors.may_screen(user),
            "next_statuses": [Status(s) for s in screening_next(referral.status)]
            if selectors.may_screen(user)
            else [],
            "needs_reason": {s.value: m for s, m in NEEDS_REASON.items()},
            "may_answer": may_answer,
            "may_withdraw": may_withdraw(user, referral),
            "notes": selectors.notes_visible_to(user, referral),
            "may_add_note": may_add_note(user, referral),
            "may_start_from": selectors.may_start_from(user, referral),
            "refusal": refusal,
            # What the coordinator asked: shown only to those who answer it.
            "information_request": referral.events.filter(
                kind=EventKind.INFORMATION_REQUESTED
            ).last()
            if may_answer
            else None,
            "access": access,
            "free_text_check": _free_text_check(user, referral),
            "csrf_token": get_token(request),
        }
    )
    return {
        "html": render_to_string("referrals/includes/case_page.html", context),
        "until": min((share.ends_at for share in access or ()), default=None),
    }


def _free_text_check(user, referral) -> dict | None:
    """What the coordinator's free-text check block shows (coordinators, on
    referrals marked "do not disclose" or "anonymous source", only)."""
    if not selectors.may_screen(user) or not redaction.is_flagged(referral):
        return None
    return {
        "review": getattr(referral, "free_text_review", None),
        "needed": redaction.needs_free_text_review(referral),
        "may_change": referral.is_open,
    }


@require_POST
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
        return _case_page(request, referral, {
            "form": "status",
            # The way out of this refusal is the free-text check, so link there.
            "anchor": "free-text-kind-confirmed"
            if isinstance(exc, FreeTextReviewNeeded)
            else "reason",
            "message": message,
            "to_status": request.POST.get("to_status", ""),
            "reason": request.POST.get("reason", ""),
            "redirected_to": request.POST.get("redirected_to", ""),
            "feedback": request.POST.get("feedback", ""),
        })  # fmt: skip
    messages.success(
        request,
        f"{referral.reference} is now '{Status(request.POST['to_status']).label}'.",
    )
    return redirect(referral)


@require_POST
def free_text_review(request, reference):
    """A coordinator confirms a flagged referral's free text is safe to share,
    or writes the summary other agencies see instead."""
    referral = selectors.referral_for(request.user, reference)
    if not selectors.may_screen(request.user):
        raise Http404("Only coordinators check a referral's free text")
    kind = request.POST.get("kind", "")
    summary = request.POST.get("summary", "")
    try:
        free_text_review_record(
            referral=referral,
            user=request.user,
            kind=kind,
            summary=summary,
            request=request,
        )
    except ReferralRefused as exc:
        return _case_page(request, referral, {
            "form": "free_text",
            "message": str(exc),
            "anchor": "free-text-summary"
            if kind == FreeTextReviewKind.SUMMARY
            else "free-text-kind-confirmed",
            "kind": kind,
            "summary": summary,
        })  # fmt: skip
    messages.success(request, "The free-text check is recorded.")
    return redirect(referral)


@require_POST
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
        return _case_page(request, referral, {
            "form": "answer",
            "message": str(exc),
            "answer": request.POST.get("message", ""),
        })  # fmt: skip
    messages.success(request, "Your answer was sent to the coordinators.")
    return redirect(referral)


@require_POST
def withdraw(request, reference):
    """The referring agency withdraws its referral, with a reason, before
    screening starts."""
    referral = selectors.referral_for(request.user, reference)
    reason = request.POST.get("reason", "")
    try:
        referral_withdraw(
            referral=referral, user=request.user, reason=reason, request=request
        )
    except ReferralRefused as exc:
        return _case_page(request, referral, {
            "form": "withdraw",
            "anchor": "withdraw-reason",
            "message": str(exc),
            "reason": reason,
        })  # fmt: skip
    messages.success(
        request,
        f"{referral.reference} is withdrawn. The coordinators have been told.",
    )
    return redirect(referral)


@require_POST
def add_note(request, reference):
    """A coordinator or an agency with access adds a note to an accepted case."""
    referral = selectors.referral_for(request.user, reference)
    text = request.POST.get("text", "")
    coordinators_only = request.POST.get("coordinators_only") == "yes"
    try:
        case_note_add(
            referral=referral,
            user=request.user,
            text=text,
            coordinators_only=coordinators_only,
            request=request,
        )
    except ReferralRefused as exc:
        return _case_page(request, referral, {
            "form": "note",
            "anchor": "note-text",
            "message": str(exc),
            "text": text,
            "coordinators_only": coordinators_only,
        })  # fmt: skip
    messages.success(request, "Your note was added to the case.")
    return redirect(f"{referral.get_absolute_url()}#notes")


def summary_pdf(request, reference):
    referral = selectors.referral_for(request.user, reference)
    context = _case_context(request, referral)
    context["viewer"] = request.user
    pdf = render_pdf("referrals/pdf/referral.html", context, request=request)
    audit_record(
        action=ReferralAction.PDF_DOWNLOADED,
        request=request,
        obj=referral,
        detail={"redacted": context["redacted"]},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{referral.reference}-summary.pdf"'
    )
    return response


def attachment(request, reference, attachment_id):
    referral = selectors.referral_for(request.user, reference)
    item = (
        selectors.attachments_visible_to(request.user, referral)
        .filter(pk=attachment_id)
        .first()
    )
    if item is None:
        # 404 whether it is missing or kept from this agency, so a guessed id
        # says nothing; the refusal is on record.
        if referral.attachments.filter(pk=attachment_id).exists():
            audit_record(
                action=ReferralAction.ATTACHMENT_DOWNLOAD_DENIED,
                request=request,
                object_type="referrals.referralattachment",
                object_id=attachment_id,
                outcome=Outcome.DENIED,
                detail={"reference": referral.reference},
            )
        raise Http404("No attachment found")
    try:
        response = private_file_response(
            file=item.file,
            name=item.original_name,
            content_type=item.content_type,
            size=item.size,
        )
    except FileNotFoundError:
        return missing_file_page(
            request,
            obj=item,
            name=item.original_name,
            action=ReferralAction.ATTACHMENT_DOWNLOAD_FAILED,
            sender=str(referral.organisation),
            back_url=referral.get_absolute_url(),
        )
    try:
        audit_record(
            action=ReferralAction.ATTACHMENT_DOWNLOADED,
            request=request,
            obj=item,
            detail={"reference": referral.reference},
        )
    except BaseException:
        response.close()
        raise
    return response


# Who can see a case, and sharing without consent (coordinators) ---------------


def _coordinator_case(request, reference):
    referral = selectors.referral_for(request.user, reference)
    if not selectors.may_screen(request.user):
        raise Http404("Only coordinators change who can see a case")
    return referral


def _access_url(referral) -> str:
    return f"{referral.get_absolute_url()}#who-can-see"


def access_grant(request, reference):
    """Share the case with an organisation, naming why (coordinators)."""
    referral = _coordinator_case(request, reference)
    organisations = (
        Organisation.objects.taking_part()
        .exclude(pk=referral.organisation_id)
        .exclude(pk__in=selectors.shares_in_force(referral).values("organisation"))
        .order_by("name")
    )
    form = ShareGrantForm(
        request.POST if request.method == "POST" else None,
        organisations=organisations,
    )
    if request.method == "POST" and form.is_valid():
        ends_on = form.cleaned_data["ends_on"]
        try:
            share = referral_share_grant(
                referral=referral,
                organisation=form.cleaned_data["organisation"],
                reason=form.cleaned_data["reason"],
                ends_at=share_end_of_day(ends_on) if ends_on else None,
                user=request.user,
                request=request,
            )
        except ReferralRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"{share.organisation} can now see {referral.reference}."
            )
            return redirect(_access_url(referral))
    audit_read(request, referral)
    return render(
        request,
        "referrals/access_grant.html",
        {"referral": referral, "form": form},
        status=refusal_status(form),
    )


def access_change(request, reference, share_id):
    """End an organisation's access, or change its end date (coordinators)."""
    referral = _coordinator_case(request, reference)
    share = selectors.share_for(request.user, referral, share_id)
    form = ShareChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["change"] == "end":
                referral_share_end(
                    share=share, reason=data["why"], user=request.user, request=request
                )
                done = f"{share.organisation} can no longer see {referral.reference}."
            else:
                referral_share_extend(
                    share=share,
                    ends_at=share_end_of_day(data["ends_on"]),
                    reason=data["why"],
                    user=request.user,
                    request=request,
                )
                done = f"The end date for {share.organisation} is changed."
        except ReferralRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, done)
            return redirect(_access_url(referral))
    audit_read(request, referral)
    return render(
        request,
        "referrals/access_change.html",
        {"referral": referral, "share": share, "form": form},
        status=refusal_status(form),
    )


def sharing_without_consent(request, reference):
    """At screening: record that sharing without consent is justified."""
    referral = _coordinator_case(request, reference)
    if referral.consent_given or not referral.sharing_restricted:
        return redirect(referral)
    form = SharingWithoutConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            sharing_without_consent_approve(
                referral=referral,
                reason=form.cleaned_data["why"],
                user=request.user,
                request=request,
            )
        except ReferralRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Sharing {referral.reference} without consent is approved: "
                "invitations to meetings now share it.",
            )
            return redirect(referral)
    audit_read(request, referral)
    consent = referral.answers.get("consent", {}).get("fields", {})
    return render(
        request,
        "referrals/sharing_without_consent.html",
        {
            "referral": referral,
            "form": form,
            "justification": consent.get("justification", ""),
        },
        status=refusal_status(form),
    )

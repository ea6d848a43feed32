"""The data protection officer's screens: a home page, the person search and
a read-only view of each record it finds.

Signed in, second factor verified (the gate in front of every view) and the
data protection officer's role: anyone else gets a 403 page, audited as a
refusal. Every page is audited, and the search's event holds the records
found and their count; the words searched for are kept only as a keyed hash
(``audit.privacy``), as for the coordinators' search.
"""

import functools

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse

from audit.models import Outcome
from audit.services import audit_record
from files.downloads import missing_file_page, private_file_response
from files.stored import kind_for, object_present
from portal.forms import refusal_status
from referrals.selectors import answers_shown_in_full

from .audit_actions import RightsAction
from .forms import (
    DecideForm,
    ExtendForm,
    IdentityForm,
    ItemReviewForm,
    ItemsAddForm,
    PersonSearchForm,
    RightsRequestForm,
    SarOpenForm,
    StatusForm,
)
from .models import DisclosureBundle, RightsRequest, SarItem, SubjectAccessRequest
from .objections import (
    HELD,
    references_read,
    rights_request_decide,
    rights_request_record,
)
from .records import SHOWN, record_fields, record_title
from .sar import (
    SarRefused,
    sar_bundle_request,
    sar_extend,
    sar_identity_record,
    sar_item_review,
    sar_items_add,
    sar_open,
    sar_status_set,
)
from .selectors import index_summary, may_handle_data_rights, person_search, record_for
from .sources import SOURCES_BY_KEY


def data_protection_officer_only(view):
    """Deny by default: the role, or a refusal page and a "denied" event."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_handle_data_rights(request.user):
            audit_record(
                action=RightsAction.REFUSED,
                request=request,
                outcome=Outcome.DENIED,
                detail={"route": request.resolver_match.view_name},
            )
            return render(request, "rights/refused.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


@data_protection_officer_only
def home(request):
    audit_record(action=RightsAction.HOME_VIEWED, request=request)
    return render(request, "rights/home.html", {"index": index_summary()})


@data_protection_officer_only
def people(request):
    form = PersonSearchForm(request.GET if "q" in request.GET else None)
    found = None
    if form.is_bound and form.is_valid():
        found = person_search(request.user, form.cleaned_data["q"])
        audit_record(
            action=RightsAction.PEOPLE_SEARCHED,
            request=request,
            detail={
                # Hashed by audit.privacy: the log never holds the words.
                "query": form.data["q"],
                "count": found.hits,
                "records": found.record_ids,
            },
        )
    elif form.is_bound:
        audit_record(
            action=RightsAction.PEOPLE_SEARCHED,
            request=request,
            outcome=Outcome.FAILURE,
            detail={"count": 0},
        )
    return render(
        request,
        "rights/people.html",
        {"form": form, "found": found},
        status=refusal_status(form),
    )


@data_protection_officer_only
def record(request, kind: str, record_id: int):
    view = record_for(request.user, kind, record_id)
    audit_record(
        action=RightsAction.RECORD_VIEWED,
        request=request,
        obj=view.record,
        detail={"count": len(view.mentions)},
    )
    return render(
        request,
        "rights/record.html",
        {
            "view": view,
            "title": record_title(kind, view.record),
            "rows": SHOWN[kind](view.record),
            "sections": (
                answers_shown_in_full(view.record) if kind == "referral" else []
            ),
            "matched_fields": sorted({m.field_label for m in view.mentions}),
        },
    )


# Subject access requests --------------------------------------------------------


def _sar_or_404(sar_id: int) -> SubjectAccessRequest:
    return get_object_or_404(SubjectAccessRequest, pk=sar_id)


def _step(request, form, run, *, template, context, redirect_to, done):
    """The shape every step's view has: show the form; on a valid post call
    the service and go back to the request; on a refusal (the form's or the
    service's) show the page again with 400 and what was typed."""
    if request.method == "POST" and form.is_valid():
        try:
            run(form.cleaned_data)
        except SarRefused as refused:
            form.refusal_show(refused)
        else:
            messages.success(request, done)
            return redirect(redirect_to)
    return render(request, template, {**context, "form": form},
                  status=refusal_status(form))  # fmt: skip


@data_protection_officer_only
def sars(request):
    requests_ = list(SubjectAccessRequest.objects.order_by("-received_on", "-pk"))
    audit_record(action=RightsAction.SAR_LISTED, request=request,
                 detail={"count": len(requests_)})  # fmt: skip
    return render(request, "rights/sars.html", {"sars": requests_})


@data_protection_officer_only
def sar_new(request):
    form = SarOpenForm(request.POST or None)

    def run(data):
        sar = sar_open(user=request.user, request=request, **data)
        run.sar = sar

    if request.method == "POST" and form.is_valid():
        try:
            run(form.cleaned_data)
        except SarRefused as refused:
            form.refusal_show(refused)
        else:
            messages.success(request, f"Subject access request {run.sar} opened.")
            return redirect("rights:sar", run.sar.pk)
    return render(request, "rights/sar_new.html", {"form": form},
                  status=refusal_status(form))  # fmt: skip


def _sar_page(request, sar, *, errors=(), status=200):
    items = list(sar.items.select_related("reviewed_by").order_by("pk"))
    bundles = list(sar.bundles.select_related("built_by").order_by("-version"))
    built = max((bundle.version for bundle in bundles), default=0)
    audit_record(action=RightsAction.SAR_VIEWED, request=request, obj=sar,
                 detail={"reference": sar.reference, "count": len(items)})  # fmt: skip
    error_for = dict(errors)
    return render(
        request,
        "rights/sar.html",
        {"sar": sar, "items": items, "bundles": bundles, "errors": list(errors),
         "item_errors": error_for, "bundle_state": sar.bundle_state(built),
         "reviewed": sum(item.is_reviewed for item in items)},
        status=status,
    )  # fmt: skip


@data_protection_officer_only
def sar(request, sar_id: int):
    return _sar_page(request, _sar_or_404(sar_id))


@data_protection_officer_only
def sar_identity(request, sar_id: int):
    sar = _sar_or_404(sar_id)
    form = IdentityForm(request.POST or None)
    return _step(
        request, form,
        lambda data: sar_identity_record(sar=sar, user=request.user,
                                         request=request, **data),
        template="rights/sar_step.html",
        context={"sar": sar, "heading": "Record the identity check"},
        redirect_to=sar_url(sar), done="Identity check recorded.",
    )  # fmt: skip


@data_protection_officer_only
def sar_extension(request, sar_id: int):
    sar = _sar_or_404(sar_id)
    form = ExtendForm(request.POST or None)
    return _step(
        request, form,
        lambda data: sar_extend(sar=sar, user=request.user, request=request,
                                **data),
        template="rights/sar_step.html",
        context={"sar": sar, "heading": "Extend the due date"},
        redirect_to=sar_url(sar), done="Due date extended.",
    )  # fmt: skip


@data_protection_officer_only
def sar_status(request, sar_id: int):
    sar = _sar_or_404(sar_id)
    form = StatusForm(request.POST or None)
    return _step(
        request, form,
        lambda data: sar_status_set(sar=sar, user=request.user, request=request,
                                    **data),
        template="rights/sar_step.html",
        context={"sar": sar, "heading": "Change the status"},
        redirect_to=sar_url(sar), done="Status changed.",
    )  # fmt: skip


def sar_url(sar) -> str:
    return reverse("rights:sar", args=[sar.pk])


def _requester_query(sar) -> str:
    parts = [sar.requester_name]
    if sar.requester_date_of_birth:
        parts.append(f"{sar.requester_date_of_birth:%d %m %Y}")
    return " ".join(parts)


def _record_choices(found, chosen: set) -> list[tuple[str, str]]:
    """One checkbox per record the search found (not per mention), grouped
    by case, meeting or share; records already in the request are left out."""
    choices, seen = [], set()
    for group in found.groups if found else []:
        for hit in group.hits:
            value = f"{hit.source.key}:{hit.mention.source_id}"
            if value in seen or value in chosen:
                continue
            seen.add(value)
            label = f"{group.title}: {hit.source.noun} ({hit.mention.field_label})"
            choices.append((value, label))
    return choices


@data_protection_officer_only
def sar_search(request, sar_id: int):
    """Search the index (the requester's details to start with) and choose
    the records to include."""
    sar = _sar_or_404(sar_id)
    typed = request.POST.get("q") or request.GET.get("q") or _requester_query(sar)
    search = PersonSearchForm({"q": typed})
    found = None
    if search.is_valid():
        found = person_search(request.user, search.cleaned_data["q"])
        audit_record(
            action=RightsAction.SAR_SEARCHED, request=request, obj=sar,
            detail={"reference": sar.reference, "query": typed,
                    "count": found.hits, "records": found.record_ids},
        )  # fmt: skip
    chosen = {f"{i.source_key}:{i.source_id}" for i in sar.items.all()}
    form = ItemsAddForm(request.POST or None, choices=_record_choices(found, chosen))
    if request.method == "POST" and form.is_valid():
        try:
            added = sar_items_add(sar=sar, user=request.user, request=request,
                                  records=form.chosen)  # fmt: skip
        except SarRefused as refused:
            form.refusal_show(refused)
        else:
            messages.success(request, f"{len(added)} record{pluralize(len(added))} "
                             "added. Review each one.")  # fmt: skip
            return redirect(sar_url(sar))
    return render(
        request, "rights/sar_search.html",
        {"sar": sar, "search": search, "form": form, "found": found, "q": typed},
        status=refusal_status(form, search),
    )  # fmt: skip


@data_protection_officer_only
def sar_item(request, sar_id: int, item_id: int):
    sar = _sar_or_404(sar_id)
    item = get_object_or_404(SarItem, pk=item_id, sar=sar)
    source = SOURCES_BY_KEY.get(item.source_key)
    record = source.records().filter(pk=item.source_id).first() if source else None
    fields = record_fields(item.source_key, record) if record is not None else []
    initial = {
        "decision": item.decision, "exemption": item.exemption,
        "third_party_fields": item.third_party_fields,
        "third_party_names": item.third_party_names,
    }  # fmt: skip
    form = ItemReviewForm(request.POST or None, initial=initial,
                          labels=[f.label for f in fields])  # fmt: skip
    if request.method == "GET":
        audit_record(
            action=RightsAction.SAR_ITEM_VIEWED, request=request, obj=sar,
            detail={"reference": sar.reference,
                    "records": [f"{item.source_key}:{item.source_id}"]},
        )  # fmt: skip
    return _step(
        request, form,
        lambda data: sar_item_review(item=item, user=request.user,
                                     request=request, **data),
        template="rights/sar_item.html",
        context={"sar": sar, "item": item, "fields": fields, "record": record},
        redirect_to=sar_url(sar), done=f"{item.title}: decision saved.",
    )  # fmt: skip


@data_protection_officer_only
def sar_bundle(request, sar_id: int):
    """Ask for the next version of the disclosure bundle (a post from the
    request's page), built in the background; refused, the page again with
    each unreviewed item named in the error summary and by the item."""
    sar = _sar_or_404(sar_id)
    if request.method != "POST":
        return redirect(sar_url(sar))
    try:
        asked = sar_bundle_request(sar=sar, user=request.user, request=request)
    except SarRefused as refused:
        audit_record(
            action=RightsAction.SAR_BUNDLE_REFUSED, request=request, obj=sar,
            outcome=Outcome.FAILURE,
            detail={"reference": sar.reference, "count": len(refused.errors)},
        )  # fmt: skip
        errors = [(anchor or "items", message) for anchor, message in refused.errors]
        return _sar_page(request, sar, errors=errors, status=400)
    if asked.queued:
        messages.success(request, f"Bundle version {asked.version} requested.")
    else:
        messages.info(request, f"Bundle version {asked.version} was already "
                      "requested: it is being prepared.")  # fmt: skip
    return redirect(sar_url(sar))


BUNDLE_FORMATS = {"pdf": "application/pdf", "json": "application/json"}


@data_protection_officer_only
def sar_bundle_download(request, sar_id: int, public_id, fmt: str):
    bundle = get_object_or_404(
        DisclosureBundle, sar_id=sar_id, public_id=public_id,
        files_deleted_at__isnull=True,
    )  # fmt: skip
    if fmt not in BUNDLE_FORMATS:
        raise Http404("No such format")
    name = f"{bundle.sar.reference}-bundle-v{bundle.version}.{fmt}"
    file = getattr(bundle, fmt)
    if not object_present(kind_for(DisclosureBundle, fmt), bundle, check_hash=False):
        return missing_file_page(request, obj=bundle, name=name,
                                 action=RightsAction.SAR_BUNDLE_DOWNLOADED,
                                 back_url=sar_url(bundle.sar))  # fmt: skip
    audit_record(
        action=RightsAction.SAR_BUNDLE_DOWNLOADED, request=request, obj=bundle.sar,
        detail={"reference": bundle.sar.reference, "version": bundle.version,
                "format": fmt},
    )  # fmt: skip
    return private_file_response(
        file=file, name=name, content_type=BUNDLE_FORMATS[fmt],
        size=getattr(bundle, f"{fmt}_size"),
    )  # fmt: skip


# Objections and erasure requests ---------------------------------------------------


@data_protection_officer_only
def rights_requests(request):
    records = list(RightsRequest.objects.order_by("-received_on", "-pk"))
    audit_record(action=RightsAction.REQUEST_LISTED, request=request,
                 detail={"count": len(records)})  # fmt: skip
    return render(request, "rights/requests.html", {"records": records})


@data_protection_officer_only
def rights_request_new(request):
    form = RightsRequestForm(request.POST or None)
    made = {}

    def run(data):
        made["record"] = rights_request_record(
            user=request.user, request=request, kind=data["kind"],
            requester_name=data["requester_name"],
            case_references=references_read(data["cases"]),
            received_on=data["received_on"], grounds=data["grounds"],
        )  # fmt: skip

    if request.method == "POST" and form.is_valid():
        try:
            run(form.cleaned_data)
        except SarRefused as refused:
            form.refusal_show(refused)
        else:
            messages.success(request, "Request recorded.")
            return redirect("rights:request", made["record"].pk)
    return render(request, "rights/request_new.html", {"form": form},
                  status=refusal_status(form))  # fmt: skip


@data_protection_officer_only
def rights_request(request, request_id: int):
    record = get_object_or_404(RightsRequest, pk=request_id)
    form = DecideForm(request.POST or None)
    if request.method == "GET":
        audit_record(action=RightsAction.REQUEST_VIEWED, request=request,
                     obj=record, detail={"kind": record.kind})  # fmt: skip
    if request.method == "POST" and record.decision:
        form.add_error(None, "This request has already been decided")
    elif request.method == "POST" and form.is_valid():
        try:
            decided = rights_request_decide(
                record=record, user=request.user, request=request,
                **form.cleaned_data,
            )  # fmt: skip
        except SarRefused as refused:
            form.refusal_show(refused)
        else:
            held = [ref for ref, what in decided.outcome.items() if what == HELD]
            if held:
                messages.warning(request, "Not erased, because on legal hold: "
                                 + ", ".join(held) + ". Ask a coordinator to "
                                 "review the hold.")  # fmt: skip
            messages.success(request, "Decision recorded.")
            return redirect("rights:request", record.pk)
    return render(request, "rights/request.html", {"record": record, "form": form},
                  status=refusal_status(form))  # fmt: skip

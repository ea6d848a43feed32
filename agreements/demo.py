"""Demo agreements: a Protocol v1.0 and the CMARAC ISA v1.0, published, some
organisations acknowledged and some not, and a v1.1 draft awaiting approval.
Every partner with demo cases has acknowledged the ISA, so it sees them.

The text is our own plain-English summary of what such agreements cover; it is
illustrative demo content, not a real agreement.
"""

from datetime import date

from django.test import RequestFactory
from django.utils import timezone
from wagtail.models import Page, Site

from accounts.models import Organisation, Role, User

from .models import (
    AgreementIndexPage,
    ChangeType,
    ProtocolPage,
    SharingAgreementPage,
)
from .services import acknowledgement_record


def _clause(kind, heading, *paragraphs):
    body = "".join(
        f"<ul>{''.join(f'<li>{item}</li>' for item in p)}</ul>"
        if isinstance(p, list)
        else f"<p>{p}</p>"
        for p in paragraphs
    )
    return ("clause", {"kind": kind, "heading": heading, "body": body})


PROTOCOL_CLAUSES = [
    _clause(
        "purpose",
        "Why this protocol exists",
        "The partners of the Community Safety Partnership share information to "
        "reduce crime, anti-social behaviour and harm. This protocol sets the "
        "common rules; each information sharing agreement under it says what is "
        "shared, for which purpose, and between whom.",
    ),
    _clause(
        "lawful_basis",
        "Legal basis",
        "Partners share only where the law allows it: UK GDPR and the Data "
        "Protection Act 2018, the Human Rights Act 1998, the common law duty of "
        "confidence, and section 115 of the Crime and Disorder Act 1998, which "
        "lets relevant authorities share information for crime and disorder "
        "reduction.",
    ),
    _clause(
        "handling",
        "Principles for every share",
        [
            "Share the minimum needed for the purpose.",
            "Check that information is accurate and say where it came from.",
            "Tell the person unless doing so would put someone at risk.",
            "Record what was shared, with whom and why.",
        ],
    ),
    _clause(
        "security",
        "Keeping information safe",
        "Information is marked OFFICIAL-SENSITIVE, kept on systems approved by "
        "each partner, and never sent to personal email or devices.",
    ),
    _clause(
        "review",
        "Review",
        "The partnership reviews this protocol every year, and sooner if the law "
        "changes.",
    ),
]

ISA_CLAUSES = [
    _clause(
        "purpose",
        "Purpose of sharing",
        "The Community MARAC is a monthly meeting where partners discuss complex "
        "or high-risk cases of anti-social behaviour involving vulnerable victims, "
        "witnesses or people causing harm. Partners share what they know so the "
        "panel can assess the risk together and agree an action plan.",
        "The first aim is to keep victims and witnesses safe and stop them being "
        "targeted again.",
    ),
    _clause(
        "parties",
        "Who takes part",
        "The organisations listed as signatories below: the council's ASB team, "
        "police, mental health and substance use services, housing providers, "
        "safeguarding advisers, the out-of-hours noise team, the fire brigade, "
        "Victim Support, the health trust and voluntary-sector partners.",
    ),
    _clause(
        "data",
        "Information shared",
        [
            "Personal data: names, addresses, dates of birth, household members, "
            "tenancy details and contact arrangements.",
            "Special category data: physical and mental health, disability and "
            "substance use, where relevant to the risk.",
            "Criminal offence data: offending history and police intelligence "
            "relevant to the case.",
        ],
    ),
    _clause(
        "lawful_basis",
        "Lawful basis",
        "UK GDPR Article 6(1)(e): a task in the public interest. For special "
        "category data, Article 9(2)(g) with the substantial public interest "
        "conditions of the Data Protection Act 2018, Schedule 1. For criminal "
        "offence data, Article 10 with Schedule 1 conditions. Section 115 of the "
        "Crime and Disorder Act 1998 gives the power to share.",
    ),
    _clause(
        "handling",
        "How information is shared, stored and managed",
        "Referrals and meeting papers are shared only through this portal. Each "
        "agency sees only the cases it is part of. Minutes and action plans are "
        "kept in the portal, and partners record in their own systems what they "
        "need to act.",
    ),
    _clause(
        "retention",
        "Retention",
        "Case material is kept for two years after a case closes, then deleted. "
        "Partners apply their own retention schedules to what they copy into "
        "their systems.",
    ),
    _clause(
        "security",
        "Security",
        "Every user signs in with a password and a second factor. Downloads are "
        "logged and watermarked. Any loss or misuse is reported to the "
        "coordinator and the partner's data protection officer within 24 hours.",
    ),
    _clause(
        "responsibilities",
        "Responsibilities",
        "Responsibility for taking action stays with each agency; it does not "
        "pass to the panel. The panel shares information, agrees actions and "
        "checks they are done.",
    ),
    _clause(
        "review",
        "Review",
        "This agreement is reviewed every year from its effective date.",
    ),
]


def demo_agreements_seed() -> None:
    if AgreementIndexPage.objects.exists():
        return
    coordinator = User.objects.get(username="coordinator")
    editor = User.objects.get(username="editor")
    organisations = list(Organisation.objects.taking_part())
    # The site's root page (the home page): agreements sit directly under it.
    home = Site.objects.get(is_default_site=True).root_page
    index = home.add_child(
        instance=AgreementIndexPage(
            title="Agreements",
            slug="agreements",
            introduction=(
                "The rules partners follow when they share information through "
                "this portal, and whether your organisation has acknowledged them."
            ),
        )
    )
    today = timezone.localdate()
    effective = (
        date(today.year, 1, 6) if today.month > 1 else date(today.year - 1, 1, 6)
    )
    protocol = _publish(
        index,
        ProtocolPage(
            title="Community Safety Partnership Information Sharing Protocol",
            slug="protocol",
            reference="CSP-ISP",
            summary=(
                "The overarching rules every partner follows when sharing "
                "personal information for community safety."
            ),
            clauses=PROTOCOL_CLAUSES,
        ),
        organisations,
        effective,
        coordinator,
    )
    isa = _publish(
        protocol,
        SharingAgreementPage(
            title="Community MARAC Information Sharing Agreement",
            slug="cmarac-isa",
            reference="CSP-ISA-CMARAC",
            summary=(
                "What partners share about people discussed at the Community "
                "MARAC, why, and how they keep it safe."
            ),
            clauses=ISA_CLAUSES,
        ),
        organisations,
        effective,
        coordinator,
    )
    _acknowledge_some(protocol, isa, organisations)
    _draft_material_change(isa, editor)


def _publish(parent, page, organisations, effective, coordinator):
    page.responsible_officer = coordinator
    page.date_of_request = effective.replace(month=1, day=2)
    page.effective_date = effective
    page.first_review_date = effective.replace(year=effective.year + 1)
    page.next_version = "1.0"
    page.change_type = ChangeType.MATERIAL
    parent.add_child(instance=page)
    page.signatory_organisations.set(organisations)
    revision = page.save_revision(user=coordinator)
    revision.publish(user=coordinator)
    return Page.objects.get(pk=page.pk).specific


def _acknowledge_some(protocol, isa, organisations):
    """Most partners have acknowledged both. Fire has acknowledged the ISA but
    not yet the protocol, so it still sees its cases (the ISA decides who sees
    case material); voluntary and health have acknowledged neither, so case
    material is closed to them and their home page says why."""
    outstanding = {
        protocol.pk: {"fire", "voluntary", "health"},
        isa.pk: {"voluntary", "health"},
    }
    factory = RequestFactory()
    for page in (protocol, isa):
        version = page.latest_version
        for organisation in organisations:
            if organisation.slug in outstanding[page.pk]:
                continue
            signatory = User.objects.get(
                organisation=organisation,
                username=f"{organisation.slug}.signatory",
                groups__name=Role.SIGNATORY.value,
            )
            request = factory.post("/", REMOTE_ADDR="127.0.0.1")
            request.user = signatory
            acknowledgement_record(
                request=request,
                version=version,
                organisation=organisation,
                signatory_name=signatory.get_full_name(),
                signatory_role=signatory.job_title,
            )


def _draft_material_change(isa, editor):
    """Version 1.1, drafted by the editor and waiting for a coordinator."""
    draft = isa.get_latest_revision_as_object()
    draft.next_version = "1.1"
    draft.change_type = ChangeType.MATERIAL
    draft.change_summary = (
        "Case material is now kept for eighteen months after a case closes, "
        "not two years."
    )
    clauses = list(draft.clauses.raw_data)
    for clause in clauses:
        if clause["value"]["kind"] == "retention":
            clause["value"]["body"] = (
                "<p>Case material is kept for eighteen months after a case "
                "closes, then deleted. Partners apply their own retention "
                "schedules to what they copy into their systems.</p>"
            )
    draft.clauses = clauses
    draft.case_retention_months = 18
    revision = draft.save_revision(user=editor)
    workflow = draft.get_workflow()
    if workflow is not None:
        workflow.start(draft, editor)
    return revision

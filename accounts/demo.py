"""The demo partnership's organisations and people (development only).

Authenticator secrets and backup codes are derived from the username and a
random value made once per install (``DEMO_SECRET_FILE``, under var/, never
committed): an authenticator app set up once keeps working after the database
is rebuilt, and no two installs share demo secrets (docs/security.md).
"""

import contextlib
import os
import secrets
import tempfile
from base64 import b32encode
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac
from django.utils.text import slugify
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import (
    BackupCode,
    BackupCodeDevice,
    IdentityProvider,
    Organisation,
    OrganisationType,
    Role,
    User,
    role_group,
)
from .services import BACKUP_CODE_ALPHABET, format_backup_code

# (name, type, short name used in usernames)
DEMO_ORGANISATIONS = [
    ("Borough Council ASB Team", OrganisationType.LOCAL_AUTHORITY, "council"),
    ("Metropolitan Police, North Area", OrganisationType.POLICE, "police"),
    ("Community Mental Health Service", OrganisationType.MENTAL_HEALTH, "mentalhealth"),
    ("Substance Use Recovery Service", OrganisationType.SUBSTANCE_USE, "recovery"),
    ("Homes for the Borough", OrganisationType.HOUSING, "housing"),
    (
        "Safeguarding Adults and Children Hub",
        OrganisationType.SAFEGUARDING,
        "safeguarding",
    ),
    ("Out-of-Hours ASB and Noise Team", OrganisationType.OUT_OF_HOURS, "noise"),
    ("City Fire Brigade", OrganisationType.FIRE, "fire"),
    ("Victim Support", OrganisationType.VICTIM_SUPPORT, "victimsupport"),
    ("Borough Health NHS Trust", OrganisationType.HEALTH_TRUST, "health"),
    ("Neighbourhood Voluntary Action", OrganisationType.VOLUNTARY, "voluntary"),
]

FIRST_NAMES = [
    "Alex",
    "Sam",
    "Jo",
    "Priya",
    "Tomasz",
    "Amara",
    "Chris",
    "Nadia",
    "Ravi",
    "Grace",
    "Owen",
    "Leila",
    "Dan",
    "Mei",
    "Femi",
    "Ruth",
    "Kofi",
    "Hannah",
    "Yusuf",
    "Erin",
    "Marek",
    "Zara",
]
LAST_NAMES = [
    "Okafor",
    "Byrne",
    "Patel",
    "Nowak",
    "Evans",
    "Hussain",
    "Murphy",
    "Chen",
    "Adeyemi",
    "Walsh",
    "Kaur",
    "Jones",
    "Silva",
    "Ahmed",
    "Price",
    "Kowalski",
    "Green",
    "Mensah",
    "Ali",
    "Doyle",
    "Ward",
    "Lee",
]


def demo_people_seed() -> list[dict]:
    """Create the organisations and people; return their logins."""
    organisations = []
    for name, org_type, short in DEMO_ORGANISATIONS:
        organisation, _ = Organisation.objects.get_or_create(
            slug=slugify(short), defaults={"name": name, "type": org_type}
        )
        organisations.append((organisation, short))

    council = organisations[0][0]
    people = [
        (
            "coordinator",
            council,
            [Role.COORDINATOR, Role.SIGNATORY],
            "CMARAC coordinator",
        ),
        ("editor", council, [Role.EDITOR], "Partnership officer"),
    ]
    for organisation, short in organisations:
        people.append(
            (f"{short}.referrer", organisation, [Role.REFERRER], "Caseworker")
        )
        people.append(
            (
                f"{short}.signatory",
                organisation,
                [Role.SIGNATORY],
                "Head of service",
            )
        )

    logins = [_person(index, *person) for index, person in enumerate(people)]
    for organisation, short in organisations:
        if organisation.single_point_of_contact_id is None:
            organisation.single_point_of_contact = User.objects.get(
                username=f"{short}.signatory"
            )
            organisation.save(update_fields=["single_point_of_contact"])
    logins.append(_person(len(people), "admin", None, [], "Portal administrator"))
    # The partnership's data protection officer, employed by the council: the
    # one login that opens the person index (rights), and nothing else.
    logins.append(
        _person(len(people) + 1, "dpo", council, [Role.DPO], "Data protection officer")
    )
    # A member of the Community Safety Partnership board: the statistics and
    # nothing else (no referrer role, so no case material). Added last so the
    # others keep their demo names.
    logins.append(
        _person(len(people) + 2, "board", council, [Role.BOARD],
                "Community Safety Partnership board member")
    )  # fmt: skip
    demo_identity_provider_seed()
    return logins


# The demo's agency with its own identity provider: the test provider
# (tests/oidc_provider), started by `make oidc-provider` on this port.
DEMO_PROVIDER_ORGANISATION = "victimsupport"
DEMO_PROVIDER_ISSUER = "http://127.0.0.1:8765/o"


def demo_identity_provider_seed() -> IdentityProvider:
    """Victim Support signs in through the test provider: its referrer with
    a second factor shown by the provider, its signatory with a password
    only (so the portal asks for a security code)."""
    organisation = Organisation.objects.get(slug=DEMO_PROVIDER_ORGANISATION)
    provider, _ = IdentityProvider.objects.get_or_create(
        organisation=organisation,
        defaults={
            "issuer": DEMO_PROVIDER_ISSUER,
            "client_id": "portal",
            "client_secret_variable": "DJANGO_OIDC_SECRET_DEMO",
            "email_domains": "example.org",
        },
    )
    return provider


def _person(index, username, organisation, roles, job_title) -> dict:
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[(index * 7) % len(LAST_NAMES)]
    superuser = organisation is None
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@example.org",
            "organisation": organisation,
            "job_title": job_title,
            "is_superuser": superuser,
            "is_staff": superuser,
        },
    )
    if created:
        user.set_password(settings.DEMO_PASSWORD)
        user.save()
        user.groups.add(*[role_group(role) for role in roles])

    key = _derived(username, "totp", 20).hex()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    replaced = device is not None and device.key != key
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="Authenticator app", confirmed=True, key=key
        )
    elif replaced:
        # Made from another install value, or replaced through the portal:
        # either way the codes printed below would not work. Put the demo's back.
        device.key = key
        device.save(update_fields=["key"])
    codes = _backup_codes(user, replace=replaced)
    return {
        "username": username,
        "password": settings.DEMO_PASSWORD,
        "name": user.get_full_name(),
        "organisation": str(organisation) if organisation else "",
        "roles": ([r.label for r in roles] or ["Administrator"]),
        "otpauth_uri": device.config_url,
        "totp_secret": b32encode(device.bin_key).decode().rstrip("="),
        "backup_codes": codes,
    }


def _backup_codes(user, *, replace: bool) -> list[str]:
    codes = []
    for i in range(settings.BACKUP_CODE_COUNT):
        code = "".join(
            BACKUP_CODE_ALPHABET[b % len(BACKUP_CODE_ALPHABET)]
            for b in _derived(user.username, f"backup-{i}", 10)
        )
        # Like real codes, never all digits (those read as app codes).
        codes.append("a" + code[1:] if code.isdigit() else code)
    device, created = BackupCodeDevice.objects.get_or_create(
        user=user, defaults={"name": "Backup codes", "confirmed": True}
    )
    if created or replace:
        device.codes.all().delete()
        # Hashing is deliberately slow and hashlib releases the GIL while it
        # works, so the demo's 230-odd hashes run on every core at once.
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            hashes = list(pool.map(make_password, codes))
        BackupCode.objects.bulk_create(
            BackupCode(device=device, code_hash=code_hash) for code_hash in hashes
        )
    return [format_backup_code(code) for code in codes]


def _derived(username: str, purpose: str, length: int) -> bytes:
    digest = salted_hmac(
        f"seed_demo.{purpose}",
        username,
        secret=demo_install_secret(),
        algorithm="sha256",
    ).digest()
    return digest[:length]


def demo_install_secret() -> bytes:
    """This install's random demo value: read from DEMO_SECRET_FILE, or made
    there (readable by its owner only) the first time."""
    path = Path(settings.DEMO_SECRET_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written in full under another name, then linked into place: a second
        # process at the same moment finds the file complete, or makes none.
        fd, temporary = tempfile.mkstemp(dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    try:
        value = bytes.fromhex(path.read_text().strip())
    except ValueError:
        value = b""
    if len(value) < 16:
        raise ImproperlyConfigured(
            f"{path} does not hold a demo secret; delete it and seed again."
        )
    return value


# The contact whose access review is in progress in the demo.
DEMO_REVIEWING_CONTACT = "council.signatory"


def demo_governance_seed() -> dict:
    """An access review in progress at the council (opened five days ago,
    one person confirmed, four waiting) and an account request waiting for an
    administrator. Made through the services, once: a second run finds them."""
    from datetime import timedelta

    from django.utils import timezone

    from .models import AccountRequest, RecertificationRound
    from .services import (
        Answer,
        account_request_make,
        recertification_answer,
        recertification_open,
    )

    contact = User.objects.get(username=DEMO_REVIEWING_CONTACT)
    organisation = contact.organisation
    if not RecertificationRound.objects.filter(organisation=organisation).exists():
        round_ = recertification_open(
            organisation=organisation,
            today=timezone.localdate() - timedelta(days=5),
        )
        confirmed = User.objects.get(username="council.referrer")
        recertification_answer(
            round_=round_,
            contact=contact,
            answers={
                confirmed.pk: Answer(keep=True, roles_kept=sorted(confirmed.role_names))
            },
        )
    if not AccountRequest.objects.filter(organisation=organisation).exists():
        account_request_make(
            contact=contact,
            first_name="Robin",
            last_name="Newcomer",
            email="robin.newcomer@example.org",
            job_title="ASB caseworker",
            role=Role.REFERRER.value,
            reason="Joins the council's ASB team next month.",
        )
    round_ = RecertificationRound.objects.filter(organisation=organisation).first()
    return {"contact": contact.username, "deadline": round_.deadline}

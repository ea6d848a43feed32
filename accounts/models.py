"""Partner organisations, users and their roles, and hashed backup codes."""

import enum
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.models import Device, ThrottlingMixin


class OrganisationType(models.TextChoices):
    LOCAL_AUTHORITY = "local_authority", "Local authority ASB team"
    POLICE = "police", "Police"
    MENTAL_HEALTH = "mental_health", "Mental health service"
    SUBSTANCE_USE = "substance_use", "Substance use service"
    HOUSING = "housing", "Housing"
    SAFEGUARDING = "safeguarding", "Safeguarding advisers"
    OUT_OF_HOURS = "out_of_hours", "Out-of-hours ASB and noise team"
    FIRE = "fire", "Fire brigade"
    VICTIM_SUPPORT = "victim_support", "Victim Support"
    HEALTH_TRUST = "health_trust", "Health trust"
    VOLUNTARY = "voluntary", "Voluntary-sector partner"


class OrganisationQuerySet(models.QuerySet):
    def taking_part(self):
        """Organisations that take part in the partnership now: the only ones
        any list of recipients, invitation, share or email may name. An
        organisation that withdrew (``partners``) or that an administrator
        marked inactive keeps its history but is left out of every one."""
        return self.filter(active=True)


class Organisation(models.Model):
    """A partner agency named in the information sharing agreement."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    type = models.CharField(max_length=40, choices=OrganisationType.choices)
    single_point_of_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact_for",
        help_text="The named person partners contact about this organisation.",
    )
    active = models.BooleanField(
        default=True,
        help_text="Inactive organisations keep their history but take no part.",
    )

    objects = OrganisationQuerySet.as_manager()
    # Wagtail's reference index ("usage") serves no screen for organisations;
    # left out, a save does not queue a rewrite of its links.
    wagtail_reference_index_ignore = True

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        problem = contact_problem(self, self.single_point_of_contact)
        if problem:
            raise ValidationError({"single_point_of_contact": problem})

    @property
    def contact_is_valid(self) -> bool:
        """Whether the named contact can act: an active person of this
        organisation. Data from before the rule may break it; the coordinators'
        recertification page lists those, and no round opens for them."""
        contact = self.single_point_of_contact
        return contact is not None and contact_problem(self, contact) is None


def contact_problem(organisation: "Organisation", contact) -> str | None:
    """Why ``contact`` cannot be ``organisation``'s single point of contact."""
    if contact is None:
        return None
    if organisation.pk is None or contact.organisation_id != organisation.pk:
        return "Choose someone who works for this organisation"
    if not contact.is_active:
        return "Choose someone whose account is active"
    return None


class Role(models.TextChoices):
    """Roles are Django groups, so Wagtail permissions attach to them."""

    REFERRER = "Referrers", "Referrer"
    SIGNATORY = "Signatories", "Signatory"
    COORDINATOR = "Coordinators", "Coordinator"
    EDITOR = "Editors", "Editor"
    # One for the partnership, whatever agency employs them: answers data
    # subject rights requests (the rights app). Not a coordinator, and no
    # other role (superusers included) reads the person index without it.
    DPO = "Data protection officers", "Data protection officer"
    # The partnership board: the statistics only, never case material.
    BOARD = "Board members", "Board member"


class SuspensionReason(models.TextChoices):
    """Why an account was suspended; each is told to the person in plain words."""

    BY_CONTACT = (
        "by_contact",
        "Suspended by your organisation's single point of contact",
    )
    REMOVED_AT_RECERTIFICATION = (
        "removed_at_recertification",
        "Removed at your organisation's access review",
    )
    NOT_RECERTIFIED = (
        "not_recertified",
        "Not confirmed at your organisation's access review by its deadline",
    )
    DORMANT = "dormant", "Not used for a long time"
    INCIDENT = "incident", "Suspended while a data incident is looked into"
    PARTNER_WITHDRAWN = (
        "partner_withdrawn",
        "Your organisation has withdrawn from the partnership",
    )


class User(AbstractUser):
    """A person at a partner organisation. Administrators are superusers."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    job_title = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # Bumping this ends every session the user has (see get_session_auth_hash).
    session_epoch = models.PositiveIntegerField(default=0, editable=False)
    # A suspension is a deactivation with a reason the person is told. Making
    # the account active again clears it (accounts.receivers).
    suspended_at = models.DateTimeField(null=True, blank=True, editable=False)
    suspension_reason = models.CharField(
        max_length=40, choices=SuspensionReason.choices, blank=True, editable=False
    )
    # What the single point of contact wrote; kept here, never in the audit log.
    suspension_note = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(
                name="user_has_organisation_unless_superuser",
                condition=models.Q(organisation__isnull=False)
                | models.Q(is_superuser=True),
            )
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    def clean(self):
        super().clean()
        # A single point of contact must stay an active person of their
        # organisation: name another contact first (docs/features.md).
        if self.pk is None:
            return
        for organisation in Organisation.objects.filter(single_point_of_contact=self):
            if not self.is_active or self.organisation_id != organisation.pk:
                raise ValidationError(
                    f"{self} is the single point of contact for {organisation}: "
                    "choose another contact for it first"
                )

    @property
    def is_suspended(self) -> bool:
        return not self.is_active and bool(self.suspension_reason)

    @property
    def is_contact(self) -> bool:
        """Whether this person is the single point of contact of their own
        organisation, which must be active."""
        organisation = self.organisation
        return (
            self.is_active
            and organisation is not None
            and organisation.active
            and organisation.single_point_of_contact_id == self.pk
        )

    def get_session_auth_hash(self):
        # Django checks this hash on every request; including the epoch lets us
        # end all of a user's sessions, whatever the session backend.
        key_salt = "accounts.User.get_session_auth_hash"
        return salted_hmac(
            key_salt,
            f"{self.password}:{self.session_epoch}",
            algorithm="sha256",
        ).hexdigest()

    @property
    def role_names(self) -> set[str]:
        if not hasattr(self, "_role_names"):
            self._role_names = {g.name for g in self.groups.all()}
        return self._role_names

    def has_role(self, role: Role) -> bool:
        return self.is_active and role.value in self.role_names

    @property
    def name_with_organisation(self) -> str:
        """ "Sam Patel (City Fire Brigade)": where a person is picked from a list,
        two people with the same name must still be told apart."""
        return f"{self} ({self.organisation or 'Administrator'})"

    @property
    def is_data_protection_officer(self) -> bool:
        """The partnership's data protection officer: the one role that may
        search the person index and read any record it finds (rights)."""
        return self.has_role(Role.DPO)

    @property
    def works_on_cases(self) -> bool:
        """Coordinators, and referrers at a partner agency: the people the
        referral, meeting and shared-file pages are for. Signatories, editors
        and administrators without these roles get nothing from them."""
        return self.has_role(Role.COORDINATOR) or (
            self.organisation_id is not None and self.has_role(Role.REFERRER)
        )

    @property
    def roles_display(self) -> str:
        labels = [r.label for r in Role if r.value in self.role_names]
        if self.is_superuser:
            labels.append("Administrator")
        return ", ".join(labels)


def role_group(role: Role) -> Group:
    return Group.objects.get_or_create(name=role.value)[0]


def staff_to_email(organisation: Organisation):
    """An organisation's active caseworkers with an email address: the people
    told that papers, minutes or files are waiting for their organisation."""
    return User.objects.filter(
        organisation=organisation,
        organisation__in=Organisation.objects.taking_part(),
        is_active=True,
        groups__name=Role.REFERRER.value,
    ).exclude(email="")


# How long a used backup code is still recognised as "already used" rather
# than wrong: long enough for a second tab or a double submit.
BACKUP_CODE_REPLAY_WINDOW = timedelta(minutes=1)


class CodeCheck(enum.Enum):
    """What checking a security code found."""

    VERIFIED = "verified"
    # A right code that has been used already, perhaps a moment ago by another
    # sign-in: refused, but no guess (docs/security.md, "A code used twice").
    ALREADY_USED = "already used"
    WRONG = "wrong"


def throttle_failure_record(device: ThrottlingMixin) -> None:
    """django-otp's throttle_increment(), without its save of every field.

    That save writes back whatever the device held when it was read, so a
    failure racing a success could put back the last used time step and make
    the code just used valid again.
    """
    now = timezone.now()
    type(device).objects.filter(pk=device.pk).update(
        throttling_failure_count=F("throttling_failure_count") + 1,
        throttling_failure_timestamp=now,
    )
    device.throttling_failure_count += 1
    device.throttling_failure_timestamp = now


class BackupCodeDevice(ThrottlingMixin, Device):
    """Single-use backup codes, stored hashed with Django's password hashers.

    django-otp's static tokens are stored in plain text, so we keep our own.
    """

    def get_throttle_factor(self):
        return settings.BACKUP_CODE_THROTTLE_FACTOR

    def verify_token(self, token):
        return self.check_token(token) is CodeCheck.VERIFIED

    def check_token(self, token) -> CodeCheck:
        token = normalise_backup_code(token)
        if not token:
            return CodeCheck.WRONG
        verify_allowed, _ = self.verify_is_allowed()
        if not verify_allowed:
            return CodeCheck.WRONG
        # Codes used a moment ago first: a second tab or a double submit then
        # costs one hash. Codes used longer ago count as wrong, so checking
        # them stays throttled like any other guess.
        recent = timezone.now() - BACKUP_CODE_REPLAY_WINDOW
        candidates = self.codes.filter(
            models.Q(used_at__isnull=True) | models.Q(used_at__gte=recent)
        ).order_by(F("used_at").desc(nulls_last=True), "pk")
        for code in candidates:
            if not check_password(token, code.code_hash):
                continue
            # Mark it used only if nobody else used it in the meantime.
            claimed = code.used_at is None and BackupCode.objects.filter(
                pk=code.pk, used_at__isnull=True
            ).update(used_at=timezone.now())
            if not claimed:
                return CodeCheck.ALREADY_USED
            self.throttle_reset(commit=False)
            self.save(
                update_fields=[
                    "throttling_failure_count",
                    "throttling_failure_timestamp",
                ]
            )
            return CodeCheck.VERIFIED
        throttle_failure_record(self)
        return CodeCheck.WRONG

    @property
    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()


class BackupCode(models.Model):
    device = models.ForeignKey(
        BackupCodeDevice, on_delete=models.CASCADE, related_name="codes"
    )
    code_hash = models.CharField(max_length=256)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        state = "used" if self.used_at else "unused"
        return f"Backup code {self.pk} ({state})"


def normalise_backup_code(token) -> str:
    return "".join(ch for ch in str(token).lower() if ch.isalnum())


# The roles a single point of contact may ask for: the agency's own. The
# partnership's roles (coordinator, editor) are given by administrators.
REQUESTABLE_ROLES = (Role.REFERRER, Role.SIGNATORY)


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting for an administrator"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class AccountRequest(models.Model):
    """A single point of contact asks for an account for someone at their
    organisation; an administrator approves (the account is made and the
    person invited) or rejects it."""

    # Names and emails of people not yet given an account: kept out of
    # Wagtail's reference index, which no screen reads for requests.
    wagtail_reference_index_ignore = True

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="account_requests"
    )
    requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="account_requests_made"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    email = models.EmailField()
    job_title = models.CharField(max_length=200, blank=True)
    role = models.CharField(
        max_length=40, choices=[(r.value, r.label) for r in REQUESTABLE_ROLES]
    )
    reason = models.TextField(help_text="Why this person needs access.")
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="account_requests_decided",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    user = models.OneToOneField(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="account_request",
        help_text="The account made when the request was approved.",
    )

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                name="account_request_decided_when_not_pending",
                condition=models.Q(
                    status=RequestStatus.PENDING, decided_at__isnull=True
                )
                | (
                    ~models.Q(status=RequestStatus.PENDING)
                    & models.Q(decided_at__isnull=False)
                ),
            )
        ]

    def __str__(self):
        return f"Account for {self.first_name} {self.last_name} ({self.organisation})"

    @property
    def role_label(self) -> str:
        return Role(self.role).label


class RecertificationRound(models.Model):
    """One organisation's access review: its single point of contact confirms
    or removes each person and each role before the deadline."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="recertifications"
    )
    opened_on = models.DateField()
    # The last day to answer: people still unconfirmed after it are suspended.
    deadline = models.DateField()
    # The smallest "days before the deadline" reminder sent so far (7, 3, 1).
    reminded_days_before = models.PositiveSmallIntegerField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_on", "organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "opened_on"],
                name="one_recertification_a_day_per_organisation",
            ),
            models.CheckConstraint(
                name="recertification_deadline_after_opening",
                condition=models.Q(deadline__gte=F("opened_on")),
            ),
        ]

    def __str__(self):
        return f"Access review of {self.organisation}, opened {self.opened_on}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class EntryStatus(models.TextChoices):
    PENDING = "pending", "Not answered yet"
    CONFIRMED = "confirmed", "Confirmed"
    REMOVED = "removed", "Access removed"
    LAPSED = "lapsed", "Not confirmed by the deadline"


class RecertificationEntry(models.Model):
    """One person in a round, with the roles they held when it opened."""

    round = models.ForeignKey(
        RecertificationRound, on_delete=models.CASCADE, related_name="entries"
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="recertifications"
    )
    roles_at_opening = models.JSONField(default=list)
    roles_removed = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=20, choices=EntryStatus.choices, default=EntryStatus.PENDING
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["user__last_name", "user__first_name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "user"], name="one_recertification_entry_a_person"
            )
        ]

    def __str__(self):
        return f"{self.user} in {self.round}: {self.get_status_display()}"


class MfaClaim(models.TextChoices):
    """Which ID token claim shows the agency asked for more than a password."""

    AMR = "amr", "amr (authentication methods) contains one of the values"
    ACR = "acr", "acr (authentication context) equals one of the values"


# The client secret is never stored: the admin names an environment variable,
# and only names with this prefix, so nobody can point the portal at
# another secret (DJANGO_SECRET_KEY, a database password) and have it sent
# to an issuer they control.
CLIENT_SECRET_VARIABLE_PREFIX = "DJANGO_OIDC_SECRET_"  # noqa: S105 (a prefix)


class IdentityProvider(models.Model):
    """An organisation's own OpenID Connect provider (docs/security.md,
    "Signing in with an agency's account")."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="identity_provider"
    )
    enabled = models.BooleanField(default=True)
    issuer = models.URLField(
        max_length=300,
        help_text="The issuer URL exactly as the provider states it, "
        "without /.well-known/openid-configuration.",
    )
    client_id = models.CharField(max_length=200)
    client_secret_variable = models.CharField(
        max_length=100,
        help_text=(
            "The name of the environment variable holding the client secret, "
            f"starting {CLIENT_SECRET_VARIABLE_PREFIX}. The secret itself is "
            "never stored in the database."
        ),
        validators=[
            RegexValidator(
                rf"^{CLIENT_SECRET_VARIABLE_PREFIX}[A-Z0-9_]+$",
                f"Use capital letters, digits and underscores, starting "
                f"{CLIENT_SECRET_VARIABLE_PREFIX}",
            )
        ],
    )
    email_domains = models.CharField(
        max_length=500,
        help_text="The organisation's email domains, separated by commas, "
        "like council.gov.uk, housing.council.gov.uk",
    )
    mfa_claim = models.CharField(
        max_length=3, choices=MfaClaim.choices, default=MfaClaim.AMR
    )
    mfa_values = models.CharField(
        max_length=200,
        default="mfa,otp,hwk",
        help_text="Values, separated by commas, that show a second factor was "
        "used. Without one the portal asks for its own security code.",
    )

    class Meta:
        ordering = ["organisation__name"]

    def __str__(self):
        return f"Identity provider for {self.organisation}"

    @property
    def domains(self) -> list[str]:
        return _comma_list(self.email_domains)

    @property
    def mfa_value_list(self) -> list[str]:
        return _comma_list(self.mfa_values)

    def clean(self):
        super().clean()
        if not self.domains:
            raise ValidationError({"email_domains": "Enter at least one domain"})
        if any("@" in d or "." not in d for d in self.domains):
            raise ValidationError(
                {"email_domains": "Enter domains like council.gov.uk, without @"}
            )
        if not self.mfa_value_list:
            raise ValidationError({"mfa_values": "Enter at least one value"})


def _comma_list(text: str) -> list[str]:
    return [part.strip().lower() for part in text.split(",") if part.strip()]


class IdentityProviderDevice(Device):
    """Stands for "the agency's provider showed a second factor" in a session.

    django-otp marks a session verified by naming a device; this one accepts
    no codes and is named only by a sign-in whose ID token showed MFA as the
    provider is configured to prove it (accounts.services.oidc).
    """

    def verify_token(self, token):
        return False

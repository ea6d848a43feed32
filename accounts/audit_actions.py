"""The names of the audit events the accounts app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class AccountAction(StrEnum):
    """Partner organisations in the admin, and people's accounts."""

    ORGANISATIONS_EXPORTED = "organisation.exported"
    ORGANISATIONS_LIST_VIEWED = "organisation.list_viewed"


class UserChange(StrEnum):
    """A change to an account, recorded once wherever it is made (admin, a
    single point of contact's screen, a job, a command): accounts.receivers
    watches the saves and group changes themselves."""

    ACTIVATED = "user.activated"
    CREATED = "user.created"
    DEACTIVATED = "user.deactivated"
    DELETED = "user.deleted"
    ORGANISATION_CHANGED = "user.organisation_changed"
    ROLES_ADDED = "user.roles_added"
    ROLES_REMOVED = "user.roles_removed"
    SUSPENDED = "user.suspended"


class OrganisationChange(StrEnum):
    """A change to a partner organisation, recorded the same way."""

    ACTIVATED = "organisation.activated"
    CONTACT_CHANGED = "organisation.contact_changed"
    CREATED = "organisation.created"
    DEACTIVATED = "organisation.deactivated"


class GovernanceAction(StrEnum):
    """Single points of contact, account requests and access reviews."""

    ACCOUNT_REQUESTED = "account_request.made"
    ACCOUNT_REQUEST_APPROVED = "account_request.approved"
    ACCOUNT_REQUEST_REJECTED = "account_request.rejected"
    DORMANT_CHECKED = "user.dormant_checked"
    INVITATION_ACCEPTED = "user.invitation_accepted"
    CONTACT_PAGE_REFUSED = "organisation.contact_page_refused"
    PEOPLE_VIEWED = "organisation.people_viewed"
    RECERTIFICATION_ANSWERED = "recertification.answered"
    RECERTIFICATION_CLOSED = "recertification.closed"
    RECERTIFICATION_OPENED = "recertification.opened"
    RECERTIFICATION_PROGRESS_VIEWED = "recertification.progress_viewed"
    RECERTIFICATION_REMINDED = "recertification.reminded"


class ProviderSignIn(StrEnum):
    """Signing in through an organisation's own identity provider. The
    details name the organisation and whether the provider showed a second
    factor, or a reason code: never a token, a code or an email address."""

    REFUSED = "auth.provider_refused"
    SIGNED_IN = "auth.provider_signed_in"


class IdentityProviderChange(StrEnum):
    """An organisation's identity provider set up, changed or removed in the
    admin; the detail names the organisation, never the client id."""

    CHANGED = "identity_provider.changed"
    CREATED = "identity_provider.created"
    DELETED = "identity_provider.deleted"

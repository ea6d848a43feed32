"""What the test provider says about a person in the ID token.

A person whose last name is "mfa" signs in "with a second factor" (amr
holds "mfa"); anyone else with a password only. Their email is always
given as verified, as an agency's directory would.
"""

from oauth2_provider.oauth2_validators import OAuth2Validator


class AgencyValidator(OAuth2Validator):
    # Every claim below goes in the ID token, whatever the scopes.
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            "amr": ["pwd", "mfa"] if user.last_name == "mfa" else ["pwd"],
        }

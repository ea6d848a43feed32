"""Start the test OpenID Connect provider on loopback.

    python -m tests.oidc_provider.serve --port 8765 \
        --redirect-uri http://127.0.0.1:8000/sign-in/agency-callback/

Builds a fresh database and signing key each time, with two clients
("portal", secret "portal-secret", and "other", secret "other-secret") and
the agency's people below (password "agency-pass" for each), then serves
until stopped. The issuer is http://127.0.0.1:PORT/o. Used by the sign-in
tests (tests/accounts/test_oidc_provider.py) and `make oidc-provider`.
"""

import argparse
import os
import secrets
import sys
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# username, email, last name ("mfa": the ID token shows a second factor)
PEOPLE = [
    ("sam", "sam.mfa@agency.example", "mfa"),
    ("pat", "pat.password@agency.example", "password"),
    ("alex", "alex@elsewhere.example", "mfa"),
    ("dee", "dee.left@agency.example", "mfa"),
    # The demo's Victim Support staff (accounts.demo)
    ("vs.referrer", "victimsupport.referrer@example.org", "mfa"),
    ("vs.signatory", "victimsupport.signatory@example.org", "password"),
]
PASSWORD = "agency-pass"  # the test provider's people only
CLIENTS = [("portal", "portal-secret"), ("other", "other-secret")]


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redirect-uri", action="append", required=True)
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="oidc-provider-")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
            "OIDC_PROVIDER_SECRET_KEY": secrets.token_urlsafe(32),
            "OIDC_PROVIDER_DATABASE": os.path.join(folder, "provider.sqlite3"),
            "OIDC_PROVIDER_ISSUER": f"http://127.0.0.1:{args.port}/o",
            "OIDC_PROVIDER_RSA_KEY": key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode(),
        }
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    _populate(args.redirect_uri)
    sys.stdout.write(f"OpenID provider ready on port {args.port}\n")
    sys.stdout.flush()
    call_command("runserver", f"127.0.0.1:{args.port}", use_reloader=False, verbosity=0)


def _populate(redirect_uris):
    from django.contrib.auth.models import User
    from oauth2_provider.models import Application

    owner = None
    for username, email, last_name in PEOPLE:
        person = User.objects.create_user(
            username, email=email, password=PASSWORD, last_name=last_name
        )
        owner = owner or person
    for client_id, secret in CLIENTS:
        Application.objects.create(
            name=client_id,
            client_id=client_id,
            client_secret=secret,
            user=owner,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(redirect_uris),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
        )


if __name__ == "__main__":
    main()

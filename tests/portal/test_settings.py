"""What an operator sees when starting the portal with each settings module.

Every case runs in a fresh Python process, as a server would, so the settings
are read from exactly the environment given and the running test settings are
left alone. The processes are forked from one runner that has imported the
libraries already (settings_runner.py), which saves two seconds a case.
"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# What a deployment must provide; dummy values, nothing listens at these.
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_AUDIT_HMAC_KEY": secrets.token_urlsafe(32),
    "DJANGO_ALLOWED_HOSTS": "portal.example.org",
    "DJANGO_BASE_URL": "https://portal.example.org",
    "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/x",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_CLAMAV_ADDRESS": "127.0.0.1:3310",
}
S3_ENV = {
    "DJANGO_S3_BUCKET": "portal-private-files",
    "DJANGO_S3_REGION": "eu-west-2",
    # boto3 reads credentials itself; it signs URLs offline with these.
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "example-secret-not-real",
}

# Django's effective settings (module plus global defaults), as JSON.
SUMMARY = """
import json
from django.conf import settings
names = [n for n in dir(settings) if n.isupper()]
print(json.dumps({n: getattr(settings, n) for n in names}, default=repr))
"""

# Builds the real default storage and a download URL, without any network.
STORAGE = """
import json
import django
django.setup()
from django.conf import settings
from django.core.files.storage import storages
s = storages["default"]
print(json.dumps({
    "class": type(s).__module__ + "." + type(s).__qualname__,
    "default_acl": s.default_acl,
    "file_overwrite": s.file_overwrite,
    "querystring_auth": s.querystring_auth,
    "querystring_expire": s.querystring_expire,
    "signature_version": s.signature_version,
    "object_parameters": s.object_parameters,
    "custom_domain": s.custom_domain,
    "url": s.url("documents/minutes.pdf"),
    "docs_serve_method": settings.WAGTAILDOCS_SERVE_METHOD,
    "storages_installed": "storages" in settings.INSTALLED_APPS,
    "checkpoints": {
        "alias": settings.AUDIT_CHECKPOINT_STORAGE,
        "class": type(storages["audit_checkpoints"]).__qualname__,
        "bucket": storages["audit_checkpoints"].bucket_name,
        "location": storages["audit_checkpoints"].location,
        "file_overwrite": storages["audit_checkpoints"].file_overwrite,
        "default_acl": storages["audit_checkpoints"].default_acl,
    },
}))
"""


def clean_env(**variables) -> dict[str, str]:
    """This process's environment without any portal setting, plus ``variables``.

    The suite itself may run with DATABASE_URL or DJANGO_* set; a server
    started by an operator would not inherit those.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "AWS_"))
        and name not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(variables)
    return env


class Runner:
    """One settings_runner.py process for this module's cases."""

    def __init__(self):
        self.process = None

    def run(self, args, env) -> subprocess.CompletedProcess:
        if self.process is None:
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter)
                [sys.executable, str(Path(__file__).with_name("settings_runner.py"))],
                cwd=REPO,
                env=clean_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        case = {"args": list(args), "env": env, "timeout": 120}
        self.process.stdin.write(json.dumps(case) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the settings runner stopped"
        result = json.loads(line)
        return subprocess.CompletedProcess(
            [sys.executable, *args],
            result["returncode"],
            result["stdout"],
            result["stderr"],
        )

    def stop(self):
        if self.process is not None:
            self.process.stdin.close()
            self.process.wait(timeout=30)
            self.process = None


RUNNER = Runner()


@pytest.fixture(scope="module", autouse=True)
def _settings_runner():
    yield RUNNER
    RUNNER.stop()


def run(args, env) -> subprocess.CompletedProcess:
    """What `python *args` does in a fresh process with exactly ``env``."""
    return RUNNER.run(args, env)


def manage(*args, **variables) -> subprocess.CompletedProcess:
    env = clean_env(DJANGO_SETTINGS_MODULE="portal.settings.production", **variables)
    return run(["manage.py", *args], env)


def settings_of(module: str, **variables) -> dict:
    env = clean_env(DJANGO_SETTINGS_MODULE=f"portal.settings.{module}", **variables)
    result = run(["-c", SUMMARY], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def production(**overrides) -> dict:
    return settings_of("production", **{**PRODUCTION_ENV, **overrides})


def without(name: str) -> dict[str, str]:
    return {k: v for k, v in PRODUCTION_ENV.items() if k != name}


class TestProductionDeployCheck:
    def test_deploy_check_passes_with_warnings_as_failures(self):
        # Nothing listens for user "u", so a check that needed the database
        # would fail here rather than pass quietly.
        result = manage(
            "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues" in result.stdout

    def test_deploy_check_passes_with_s3_storage(self):
        result = manage(
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            **PRODUCTION_ENV,
            **S3_ENV,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def test_deploy_check_still_catches_an_unsafe_setting(self):
        # Guards the test above: the check really runs with these settings.
        result = manage(
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            **{**PRODUCTION_ENV, "DJANGO_SSL_REDIRECT": "false"},
        )
        assert result.returncode != 0
        assert "security.W008" in result.stderr


class TestProductionRefusesToStart:
    @pytest.mark.parametrize(
        ("missing", "message"),
        [
            ("DJANGO_SECRET_KEY", "Set the DJANGO_SECRET_KEY environment variable"),
            ("DJANGO_ALLOWED_HOSTS", "Set the DJANGO_ALLOWED_HOSTS environment"),
            ("DATABASE_URL", "Set the DATABASE_URL environment variable"),
            ("REDIS_URL", "Set the REDIS_URL environment variable"),
            ("DJANGO_BASE_URL", "Set the DJANGO_BASE_URL environment variable"),
            (
                "DJANGO_AUDIT_HMAC_KEY",
                "Set the DJANGO_AUDIT_HMAC_KEY environment variable",
            ),
        ],
    )
    def test_without_a_required_variable(self, missing, message):
        result = manage("check", **without(missing))
        assert result.returncode != 0
        assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
        assert message in result.stderr

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("DJANGO_SECRET_KEY", "", "DJANGO_SECRET_KEY must be set to 50"),
            ("DJANGO_SECRET_KEY", "too-short", "DJANGO_SECRET_KEY must be set to 50"),
            ("DJANGO_ALLOWED_HOSTS", "", "DJANGO_ALLOWED_HOSTS must name"),
            ("DJANGO_BASE_URL", "http://portal.example.org", "https address"),
            ("DJANGO_AUDIT_HMAC_KEY", "", "DJANGO_AUDIT_HMAC_KEY must be set to 32"),
            ("DJANGO_AUDIT_HMAC_KEY", "short", "DJANGO_AUDIT_HMAC_KEY must be set"),
            (
                "DJANGO_AUDIT_HMAC_KEY",
                PRODUCTION_ENV["DJANGO_SECRET_KEY"],
                "different from DJANGO_SECRET_KEY",
            ),
        ],
        ids=[
            "empty key",
            "short key",
            "empty hosts",
            "plain http base URL",
            "empty audit key",
            "short audit key",
            "audit key same as secret key",
        ],
    )
    def test_with_an_empty_or_weak_value(self, name, value, message):
        result = manage("check", **{**PRODUCTION_ENV, name: value})
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr
        assert message in result.stderr

    def test_wsgi_server_refuses_too(self):
        # What gunicorn does on start-up: import the WSGI application.
        env = clean_env(
            DJANGO_SETTINGS_MODULE="portal.settings.production",
            **without("DJANGO_SECRET_KEY"),
        )
        result = run(["-c", "import portal.wsgi"], env)
        assert result.returncode != 0
        assert "Set the DJANGO_SECRET_KEY environment variable" in result.stderr

    def test_starts_with_everything_required(self):
        result = manage("check", **PRODUCTION_ENV)
        assert result.returncode == 0, result.stderr


class TestProductionVirusScanning:
    """Production never stores an unscanned upload by accident: no scanner
    means no start, unless an operator says so, and then every start and
    every deploy check says so too."""

    @pytest.mark.parametrize(
        "address", [None, "", "   "], ids=["unset", "empty", "blank"]
    )
    def test_refuses_to_start_without_a_scanner(self, address):
        variables = without("DJANGO_CLAMAV_ADDRESS")
        if address is not None:
            variables["DJANGO_CLAMAV_ADDRESS"] = address
        result = manage("check", **variables)
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr
        assert "DJANGO_CLAMAV_ADDRESS must name the clamd" in result.stderr

    def test_the_wsgi_server_refuses_too(self):
        env = clean_env(
            DJANGO_SETTINGS_MODULE="portal.settings.production",
            **without("DJANGO_CLAMAV_ADDRESS"),
        )
        result = run(["-c", "import portal.wsgi"], env)
        assert result.returncode != 0
        assert "DJANGO_CLAMAV_ADDRESS must name the clamd" in result.stderr

    def test_switched_off_on_purpose_it_starts_and_says_so(self):
        variables = {
            **without("DJANGO_CLAMAV_ADDRESS"),
            "DJANGO_CLAMAV_DISABLED": "true",
        }
        result = manage("check", "--deploy", **variables)
        assert result.returncode == 0, result.stdout + result.stderr
        # Logged when the process starts, and a warning from the deploy check.
        assert (
            "Virus scanning is switched off (DJANGO_CLAMAV_DISABLED=true)"
            in (result.stderr.split("System check identified")[0])
        )
        assert "documents.W001" in result.stderr
        strict = manage("check", "--deploy", "--fail-level", "WARNING", **variables)
        assert strict.returncode != 0
        assert "documents.W001" in strict.stderr

    def test_an_address_and_switched_off_together_is_refused(self):
        result = manage("check", **PRODUCTION_ENV, DJANGO_CLAMAV_DISABLED="true")
        assert result.returncode != 0
        assert "not both" in result.stderr

    def test_other_settings_without_a_scanner_fail_the_deploy_check(self):
        # Any settings module, not just ours, meets the same check at deploy.
        env = clean_env(DJANGO_SETTINGS_MODULE="portal.settings.dev")
        result = run(["manage.py", "check", "--deploy"], env)
        assert result.returncode != 0
        assert "documents.E001" in result.stderr


class TestProductionSettings:
    @pytest.fixture(scope="class")
    def production_settings(self):
        return production()

    def test_debug_is_off_even_if_asked_for(self):
        assert production(DJANGO_DEBUG="true")["DEBUG"] is False

    def test_cache_lives_in_redis_with_timeouts(self, production_settings):
        cache = production_settings["CACHES"]["default"]
        assert cache["BACKEND"] == "portal.redis_cache.ResilientRedisCache"
        assert cache["LOCATION"] == PRODUCTION_ENV["REDIS_URL"]
        assert cache["OPTIONS"] == {
            "socket_connect_timeout": 1.0,
            "socket_timeout": 1.0,
        }

    def test_sessions_live_in_the_database_with_redis_in_front(
        self, production_settings
    ):
        # A Redis restart must not sign everyone out.
        assert (
            production_settings["SESSION_ENGINE"]
            == "django.contrib.sessions.backends.cached_db"
        )

    def test_web_requests_have_short_database_limits(self, production_settings):
        options = production_settings["DATABASES"]["default"]["OPTIONS"]
        assert options == {
            "connect_timeout": 5,
            "options": "-c statement_timeout=10000 -c lock_timeout=5000",
        }

    def test_limits_come_from_the_environment(self):
        settings = production(
            DJANGO_DB_STATEMENT_TIMEOUT="3",
            DJANGO_DB_LOCK_TIMEOUT="2",
            DJANGO_REDIS_TIMEOUT="0.5",
            DJANGO_EMAIL_TIMEOUT="4",
        )
        options = settings["DATABASES"]["default"]["OPTIONS"]["options"]
        assert options == "-c statement_timeout=3000 -c lock_timeout=2000"
        assert settings["CACHES"]["default"]["OPTIONS"]["socket_timeout"] == 0.5
        assert settings["EMAIL_TIMEOUT"] == 4

    def test_mail_server_has_a_timeout(self, production_settings):
        assert production_settings["EMAIL_TIMEOUT"] == 10

    def test_scanner_has_timeouts(self, production_settings):
        assert production_settings["CLAMAV_CONNECT_TIMEOUT"] == 3.0
        assert production_settings["CLAMAV_TIMEOUT"] == 15

    def test_cookies_are_host_only_secure_and_hidden_from_scripts(
        self, production_settings
    ):
        assert production_settings["SESSION_COOKIE_NAME"].startswith("__Host-")
        assert production_settings["CSRF_COOKIE_NAME"].startswith("__Host-")
        assert production_settings["SESSION_COOKIE_SECURE"] is True
        assert production_settings["CSRF_COOKIE_SECURE"] is True
        assert production_settings["SESSION_COOKIE_HTTPONLY"] is True
        # __Host- cookies are rejected by browsers if a Domain is set.
        assert production_settings["SESSION_COOKIE_DOMAIN"] is None
        assert production_settings["CSRF_COOKIE_DOMAIN"] is None

    def test_https_is_enforced(self, production_settings):
        assert production_settings["SECURE_SSL_REDIRECT"] is True
        assert production_settings["SECURE_HSTS_SECONDS"] >= 31536000
        assert production_settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True

    def test_documents_are_served_only_through_the_authorising_view(
        self, production_settings
    ):
        assert production_settings["WAGTAILDOCS_SERVE_METHOD"] == "serve_view"

    def test_database_connections_are_kept_open_and_checked(self, production_settings):
        database = production_settings["DATABASES"]["default"]
        assert database["ENGINE"] == "django.db.backends.postgresql"
        assert database["CONN_MAX_AGE"] == 60
        assert database["CONN_HEALTH_CHECKS"] is True

    def test_files_stay_on_local_disk_without_a_bucket(self, production_settings):
        default = production_settings["STORAGES"]["default"]["BACKEND"]
        assert default == "django.core.files.storage.FileSystemStorage"
        assert "storages" not in production_settings["INSTALLED_APPS"]
        # Audit checkpoints then go to the local file only.
        assert production_settings["AUDIT_CHECKPOINT_STORAGE"] is None

    def test_audit_log_is_signed_with_the_given_key(self, production_settings):
        assert (
            production_settings["AUDIT_HMAC_KEY"]
            == PRODUCTION_ENV["DJANGO_AUDIT_HMAC_KEY"]
        )
        assert production_settings["AUDIT_HMAC_OLD_KEYS"] == []
        old = "a-retired-audit-key-0123456789abcdef"
        rotated = production(DJANGO_AUDIT_HMAC_OLD_KEYS=f"{old},another-old-key")
        assert rotated["AUDIT_HMAC_OLD_KEYS"] == [old, "another-old-key"]


class TestProductionS3Storage:
    @pytest.fixture(scope="class")
    def storage(self):
        env = clean_env(
            DJANGO_SETTINGS_MODULE="portal.settings.production",
            **PRODUCTION_ENV,
            **S3_ENV,
        )
        result = run(["-c", STORAGE], env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def test_default_storage_is_the_private_bucket(self, storage):
        assert storage["class"] == "storages.backends.s3.S3Storage"
        assert storage["storages_installed"] is True
        assert storage["default_acl"] == "private"

    def test_uploads_never_replace_an_existing_file(self, storage):
        assert storage["file_overwrite"] is False

    def test_objects_are_encrypted_at_rest(self, storage):
        assert storage["object_parameters"]["ServerSideEncryption"] in {
            "AES256",
            "aws:kms",
        }

    def test_download_links_are_signed_and_short_lived(self, storage):
        assert storage["querystring_auth"] is True
        assert storage["querystring_expire"] <= 60
        assert storage["signature_version"] == "s3v4"
        # A custom domain would silently produce unsigned URLs.
        assert storage["custom_domain"] is None
        url = storage["url"]
        assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
        assert "X-Amz-Signature=" in url
        expires = int(url.split("X-Amz-Expires=")[1].split("&")[0])
        assert expires <= 60

    def test_documents_still_go_through_the_authorising_view(self, storage):
        # Remote storage would otherwise default to redirecting to the bucket.
        assert storage["docs_serve_method"] == "serve_view"

    def test_audit_checkpoints_go_to_the_private_bucket_never_replaced(self, storage):
        assert storage["checkpoints"] == {
            "alias": "audit_checkpoints",
            "class": "S3Storage",
            "bucket": S3_ENV["DJANGO_S3_BUCKET"],
            "location": "audit-checkpoints",
            "file_overwrite": False,
            "default_acl": "private",
        }


class TestDatabaseUrl:
    URL = "postgres://portal:secret@db.example.org:6543/portal_live"

    @pytest.mark.parametrize("module", ["dev", "test", "production"])
    def test_every_settings_module_uses_database_url(self, module):
        variables = {**PRODUCTION_ENV} if module == "production" else {}
        variables["DATABASE_URL"] = self.URL
        database = settings_of(module, **variables)["DATABASES"]["default"]
        assert database["ENGINE"] == "django.db.backends.postgresql"
        assert database["NAME"] == "portal_live"
        assert database["HOST"] == "db.example.org"
        assert database["PORT"] == 6543
        assert database["USER"] == "portal"

    @pytest.mark.parametrize("module", ["dev", "test"])
    def test_local_settings_fall_back_to_sqlite(self, module):
        database = settings_of(module)["DATABASES"]["default"]
        assert database["ENGINE"] == "django.db.backends.sqlite3"


JOB_LIMITS = """
import json, sys
sys.argv = ["manage.py", *sys.argv[1:]]
from django.conf import settings
print(json.dumps(settings.DATABASES["default"]["OPTIONS"]))
"""


class TestJobsHaveLongerDatabaseLimits:
    """Management commands (scheduled jobs, the task worker, migrations) may
    run long statements; web requests may not."""

    def limits(self, *argv) -> str:
        env = clean_env(
            DJANGO_SETTINGS_MODULE="portal.settings.production", **PRODUCTION_ENV
        )
        result = run(["-c", JOB_LIMITS, *argv], env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["options"]

    @pytest.mark.parametrize("command", ["purge_shared_files", "migrate"])
    def test_a_command_gets_job_limits(self, command):
        assert self.limits(command) == (
            "-c statement_timeout=1800000 -c lock_timeout=60000"
        )

    @pytest.mark.parametrize("command", ["runserver", "dev_server"])
    def test_the_development_servers_get_web_limits(self, command):
        assert self.limits(command) == "-c statement_timeout=10000 -c lock_timeout=5000"


class TestEnvExample:
    """.env.example is the operator's list: it must match what settings read."""

    READ = re.compile(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
    LISTED = re.compile(r"^#\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    # Read by Django's entry points and by boto3, not by the settings modules.
    READ_ELSEWHERE = {
        "DJANGO_SETTINGS_MODULE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        # Read by accounts.services.oidc under the name an identity provider
        # gives in the admin; the demo provider's is the example.
        "DJANGO_OIDC_SECRET_DEMO",
    }

    def read_by_settings(self) -> set[str]:
        sources = (REPO / "portal" / "settings").glob("*.py")
        return {name for f in sources for name in self.READ.findall(f.read_text())}

    def listed(self) -> set[str]:
        return set(self.LISTED.findall((REPO / ".env.example").read_text()))

    def test_every_variable_the_settings_read_is_listed(self):
        read = self.read_by_settings()
        assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= read
        assert read - self.listed() == set()

    def test_nothing_listed_is_stale(self):
        assert self.listed() - self.read_by_settings() == self.READ_ELSEWHERE

    def test_every_variable_says_its_default_and_production_need(self):
        lines = (REPO / ".env.example").read_text().splitlines()
        for number, line in enumerate(lines):
            if self.LISTED.match(line) and not line.startswith("# AWS_SECRET"):
                comment = lines[number - 1]
                assert comment.startswith("# "), line
                assert "Default" in comment, line
                assert "Production" in comment, line

    def test_holds_no_secret_values(self):
        text = (REPO / ".env.example").read_text()
        assert PRODUCTION_ENV["DJANGO_SECRET_KEY"] not in text
        for line in text.splitlines():
            if line.startswith(
                (
                    "# DJANGO_SECRET_KEY=",
                    "# DJANGO_AUDIT_HMAC_KEY=",
                    "# DJANGO_AUDIT_HMAC_OLD_KEYS=",
                    "# AWS_SECRET_ACCESS_KEY=",
                )
            ):
                assert line.split("=", 1)[1] == ""


def test_collectstatic_finds_every_file_the_css_names(tmp_path, settings):
    """Production's manifest storage refuses a stylesheet that names a file we
    do not ship (it once named GOV.UK's crest); catch that here, not at deploy."""
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        },
    }
    call_command("collectstatic", "--no-input", verbosity=0)
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("build/portal.*.css"))

"""Settings shared by every environment, with production-safe defaults.

Every variable is read from the environment with the ``DJANGO_`` prefix (apart
from the conventional ``DATABASE_URL`` and ``REDIS_URL``); ``.env.example``
lists them all. Docs: https://docs.djangoproject.com/en/5.2/ref/settings/
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# Production-safe defaults: debug off, no hosts allowed until configured.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Our apps come first so their templates override Wagtail's.
    "portal",
    "accounts",
    "audit",
    "files",
    "home",
    "rights",
    "agreements",
    "referrals",
    "meetings",
    "documents",
    "incidents",
    "board",
    "notices",
    "partners",
    "wagtail_modeladmin",
    "wagtail.contrib.settings",
    "wagtail.contrib.redirects",
    "wagtail.sites",
    "accounts.apps.PortalUsersAppConfig",  # wagtail.users with our user form
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "jobs",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A view meeting a failing database, cache, storage or scanner gets the 503
    # page; placed first, so it is asked last, after any middleware that
    # handles its own exceptions.
    "portal.middleware.ServiceUnavailableMiddleware",
    # Before anything that looks the address up (sessions, redirects, views).
    "portal.middleware.RefuseNullCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.middleware.AdminContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp's, checking the device in the query that reads the person.
    "accounts.middleware.SecondFactorDeviceMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "accounts.middleware.SecondFactorGateMiddleware",
    # After the second factor: case routes need a party to the ISA in force.
    "agreements.middleware.CaseMaterialGateMiddleware",
    "accounts.middleware.NoStoreForAuthenticatedMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # A page "Submit" that overlapped autosave's create edits that page.
    "home.middleware.PageCreateRacingAutosaveMiddleware",
    # Axes last: it turns a lockout flagged during the view into our lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
# URL namespaces that hold case material: every route in them is refused to
# anyone the agreement does not let see it (agreements.middleware).
CASE_MATERIAL_NAMESPACES = frozenset({"referrals", "meetings", "documents"})
# Every 403 and 404 on these routes is audited as "denied", once per request
# (agreements.middleware).
DENIAL_AUDITED_NAMESPACES = CASE_MATERIAL_NAMESPACES | {"incidents"}
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "portal.context_processors.portal",
                "accounts.context_processors.session_timing",
                "home.context_processors.navigation",
                "board.context_processors.board_link",
                "notices.context_processors.notices",
            ],
        },
    },
]

# Timeouts on every dependency, so that one hung service cannot hold every
# worker (docs/operations.md, "Timeouts"). A request that meets one gets the
# plain "problem with the service" page (portal.middleware.ServiceUnavailable).
#
# PostgreSQL: web requests may run a statement for 10 s and wait 5 s for a
# lock (the audit chain's included); jobs - every `manage.py` command but the
# development servers: scheduled jobs, the task worker, migrations - get
# longer. https://www.postgresql.org/docs/current/runtime-config-client.html
WEB_COMMANDS = frozenset({"runserver", "dev_server"})
RUNNING_A_JOB = (
    Path(sys.argv[0]).name in {"manage.py", "django-admin"}
    and len(sys.argv) > 1
    and sys.argv[1] not in WEB_COMMANDS
)
DB_CONNECT_TIMEOUT = env.int("DJANGO_DB_CONNECT_TIMEOUT", default=5)  # seconds
if RUNNING_A_JOB:
    DB_STATEMENT_TIMEOUT = env.int("DJANGO_DB_JOB_STATEMENT_TIMEOUT", default=1800)
    DB_LOCK_TIMEOUT = env.int("DJANGO_DB_JOB_LOCK_TIMEOUT", default=60)
else:
    DB_STATEMENT_TIMEOUT = env.int("DJANGO_DB_STATEMENT_TIMEOUT", default=10)
    DB_LOCK_TIMEOUT = env.int("DJANGO_DB_LOCK_TIMEOUT", default=5)
# libpq connection parameters, set once per connection (no extra round trip).
POSTGRES_TIMEOUT_OPTIONS = {
    "connect_timeout": DB_CONNECT_TIMEOUT,
    "options": f"-c statement_timeout={DB_STATEMENT_TIMEOUT * 1000}"
    f" -c lock_timeout={DB_LOCK_TIMEOUT * 1000}",
}
# Redis answers in well under a millisecond on a private network; a second
# without an answer means it is down or hung (portal.redis_cache then serves
# pages without the cache).
REDIS_CONNECT_TIMEOUT = env.float("DJANGO_REDIS_CONNECT_TIMEOUT", default=1.0)
REDIS_TIMEOUT = env.float("DJANGO_REDIS_TIMEOUT", default=1.0)
# S3: each attempt may take 3 s to connect and 10 s per read; two attempts in
# all (botocore's "standard" retry mode), so a hung endpoint costs about 26 s,
# inside gunicorn's default 30 s worker timeout.
# https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
S3_CONNECT_TIMEOUT = env.float("DJANGO_S3_CONNECT_TIMEOUT", default=3.0)
S3_READ_TIMEOUT = env.float("DJANGO_S3_READ_TIMEOUT", default=10.0)
S3_MAX_ATTEMPTS = env.int("DJANGO_S3_MAX_ATTEMPTS", default=2)
# A private download on S3 is answered, after its audit event is written, with a
# redirect to a signed URL that works for this many seconds (at most 60), so the
# bytes go from S3 to the browser without holding a portal worker. 0 streams
# them through the portal instead (files.downloads).
S3_SIGNED_DOWNLOAD_SECONDS = min(
    env.int("DJANGO_S3_SIGNED_DOWNLOAD_SECONDS", default=60), 60
)
# SMTP: seconds to wait for the mail server on connect and each reply.
EMAIL_TIMEOUT = env.int("DJANGO_EMAIL_TIMEOUT", default=10)

# /health/ (portal.health): each dependency, one line each, in this order.
# A check is a function taking no arguments; see portal/health.py.
HEALTH_CHECKS = {
    "database": "portal.health.database_check",
    "cache": "portal.health.cache_check",
    "audit_lock": "audit.health.chain_lock_check",
    "scanner": "files.health.scanner_check",
    "storage": "files.health.storage_check",
    "queue": "jobs.health.queue_check",
    "retention": "referrals.retention.retention_check",
}
# Seconds each health check may take before it counts as failing.
HEALTH_CHECK_TIMEOUT = 2.0

# Databases: DATABASE_URL wins everywhere; otherwise a local SQLite file.
# SQLite runs write transactions as IMMEDIATE so that concurrent writers queue
# instead of failing, which the audit hash chain relies on.
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    # Persistent connections: without them a Wagtail page served 2.8x fewer
    # requests on this machine (see docs/stack-notes.md).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).update(POSTGRES_TIMEOUT_OPTIONS)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "portal",
    }
}

# Authentication -----------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first, so a locked-out account is refused before its password is checked.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PartnerBackend",
]
_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {
        "NAME": f"{_VALIDATORS}.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60  # one hour

# Signing in with an agency's own OpenID Connect provider (accounts.services.oidc):
# how long to wait for the provider, and the clock difference allowed on tokens.
OIDC_TIMEOUT = env.float("DJANGO_OIDC_TIMEOUT", default=5.0)
OIDC_CLOCK_LEEWAY = env.int("DJANGO_OIDC_CLOCK_LEEWAY", default=60)

# Sessions: idle timeout and absolute lifetime (accounts.middleware enforces both).
SESSION_IDLE_TIMEOUT = timedelta(
    minutes=env.int("DJANGO_SESSION_IDLE_MINUTES", default=30)
)
# How long before the idle sign-out each page warns, with a button to stay
# signed in (WCAG 2.2.1 Timing Adjustable; docs/security.md, "Sessions").
SESSION_IDLE_WARNING = timedelta(
    seconds=env.int("DJANGO_SESSION_IDLE_WARNING_SECONDS", default=120)
)
SESSION_ABSOLUTE_LIFETIME = timedelta(
    hours=env.int("DJANGO_SESSION_ABSOLUTE_HOURS", default=12)
)
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_LIFETIME.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
if SESSION_COOKIE_SECURE:
    # __Host- cookies must be Secure, on path / and without a Domain, so no
    # sibling subdomain can set or read them.
    # https://developer.mozilla.org/en-US/docs/Web/HTTP/Cookies#cookie_prefixes
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# django-otp: keep throttling on; hide secrets in any admin listing.
OTP_TOTP_ISSUER = env.str("DJANGO_OTP_ISSUER", default="CMARAC portal")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
BACKUP_CODE_COUNT = 10
BACKUP_CODE_THROTTLE_FACTOR = 1

# django-axes: lock by username and, separately, by IP address.
AXES_ENABLED = True
AXES_FAILURE_LIMIT = env.int("DJANGO_LOCKOUT_FAILURES", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DJANGO_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
# axes' own reset runs on the password step and clears every failure from the
# address, whoever they were against; accounts.services clears a username's
# failures after its full sign-in instead (docs/security.md, "Lockout").
AXES_RESET_ON_SUCCESS = False
# Attempts during a lockout do not extend it, so nobody can keep a colleague out.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_IPWARE_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
AXES_VERBOSE = False
# The client IP for audit events follows the same proxy count as axes.
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)

# Demo data may only be loaded where a settings module allows it.
DEMO_DATA_ALLOWED = False
DEMO_PASSWORD = env.str("DJANGO_DEMO_PASSWORD", default="")
# A random value made on first use that demo authenticator secrets and backup
# codes are derived from, so no two installs share them (accounts.demo).
DEMO_SECRET_FILE = BASE_DIR / "var" / "demo-secret"

# Security headers ---------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preloading binds the whole registrable domain (and every sibling site on it)
# to HTTPS for good; only the domain's owner can ask for it, so the portal
# leaves it off and silences the deploy check that suggests it.
# https://hstspreload.org/#deployment-recommendations
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=True)
# Load balancers probe the app server over plain http and count a redirect as
# a failure; the health check holds no data and sets no cookie.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy for portal pages (django-csp 4): no inline script;
# the one inline snippet in base.html carries a per-request nonce. django-csp 4
# only fills in the nonce for its NONCE sentinel: a "'nonce'" string would be
# sent as-is and block the snippet.
# https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}
# The Wagtail admin injects inline styles and scripts; it gets its own policy.
ADMIN_CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, "'unsafe-inline'"],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [SELF],
        "frame-src": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
# Dates as GOV.UK writes them, "6 December 2026" (portal.dates).
FORMAT_MODULE_PATH = ["portal.formats"]
DATE_FORMAT = "j F Y"  # where no format module applies
DATETIME_FORMAT = "j F Y, H:i"
USE_I18N = True
USE_TZ = True

# Static and uploaded files ------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Private files live outside anything the web server serves.
MEDIA_ROOT = env.path("DJANGO_PRIVATE_MEDIA_ROOT", default=BASE_DIR / "var" / "private")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
    # Sealed audit segments: outside MEDIA_ROOT, never served (docs/audit.md).
    "audit_segments": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": BASE_DIR / "var" / "audit-segments"},
    },
}
# Shared files: the size limit is enforced while the upload arrives, before
# anything reaches storage (files.uploads), for every upload on the site.
FILE_UPLOAD_HANDLERS = [
    "files.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DOCUMENTS_MAX_UPLOAD_BYTES = (
    env.int("DJANGO_DOCUMENTS_MAX_UPLOAD_MB", default=25) * 1024 * 1024
)
DOCUMENTS_DEFAULT_EXPIRY_DAYS = env.int("DJANGO_DOCUMENTS_EXPIRY_DAYS", default=30)
DOCUMENTS_MAX_EXPIRY_DAYS = 90
# Stored files no row refers to (a crashed upload) are deleted by
# `manage.py sweep_storage` once this old, so an upload in progress is safe.
STORAGE_SWEEP_GRACE_HOURS = env.int("DJANGO_STORAGE_SWEEP_GRACE_HOURS", default=24)
# Where set, every uploaded file is scanned; uploads are refused while clamd is
# down. Production refuses to start without it unless scanning is switched off
# on purpose with DJANGO_CLAMAV_DISABLED=true (logged, and a deploy warning).
CLAMAV_ADDRESS = env.str("DJANGO_CLAMAV_ADDRESS", default="")
CLAMAV_DISABLED = env.bool("DJANGO_CLAMAV_DISABLED", default=False)
# Seconds to wait for clamd: to connect, then for each send and reply (a large
# file that keeps moving is not cut off). A refused upload keeps the form.
CLAMAV_CONNECT_TIMEOUT = env.float("DJANGO_CLAMAV_CONNECT_TIMEOUT", default=3.0)
CLAMAV_TIMEOUT = env.int("DJANGO_CLAMAV_TIMEOUT", default=15)

# Email ---------------------------------------------------------------------
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
DEFAULT_FROM_EMAIL = env.str(
    "DJANGO_DEFAULT_FROM_EMAIL", default="CMARAC portal <no-reply@localhost>"
)
# Seconds to wait for the mail server before giving up on one attempt; mail is
# sent by the task worker, so a hung server holds a worker, never a web request.
EMAIL_TIMEOUT = env.int("DJANGO_EMAIL_TIMEOUT", default=10)
# Seconds before each retry of an email the server refused or never answered
# (1, 5, 15 and 60 minutes); after the last it is marked failed (docs/operations.md).
EMAIL_RETRY_DELAYS = env.list(
    "DJANGO_EMAIL_RETRY_DELAYS", cast=int, default=[60, 300, 900, 3600]
)

# Background tasks (django-tasks, which Wagtail 8 uses too) are rows in the
# database that `manage.py db_worker` runs, so they survive a restart and a
# mail outage (docs/operations.md, "Background work").
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# /health/ reports the queue failing when the oldest task ready to run has
# waited longer than this many seconds: the worker is down or overwhelmed.
TASKS_MAX_LAG_SECONDS = env.int("DJANGO_TASKS_MAX_LAG_SECONDS", default=300)
# A task RUNNING longer than this was left by a worker that was killed
# (requeue_stuck_tasks marks it failed and runs it again). Longer than the
# jobs' statement timeout (DJANGO_DB_JOB_STATEMENT_TIMEOUT, 1800 s), so a slow
# task that is still working is not taken for a stopped one.
TASKS_STUCK_AFTER_SECONDS = env.int("DJANGO_TASKS_STUCK_AFTER_SECONDS", default=3600)

# Wagtail -------------------------------------------------------------------
WAGTAIL_SITE_NAME = "CMARAC partner portal"
WAGTAILADMIN_BASE_URL = env.str("DJANGO_BASE_URL", default="http://127.0.0.1:8000")
WAGTAIL_GRAVATAR_PROVIDER_URL = None  # never fetch avatars from the internet
# Wagtail's database backend, with search terms escaped for SQLite (portal.search).
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "portal.search"}}
# Documents are served only through the authorising view, never a storage URL.
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILDOCS_DOCUMENT_MODEL = "documents.PortalDocument"
# The same types partners may share (files.checks.ACCEPTED).
WAGTAILDOCS_EXTENSIONS = [
    *("pdf", "docx", "xlsx", "odt", "png", "jpg", "jpeg", "txt", "csv")
]
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAILADMIN_LOGIN_URL = "accounts:login"
# Page privacy sends people to our two-step sign-in, never Wagtail's own form.
WAGTAIL_FRONTEND_LOGIN_URL = "accounts:login"
# Password changes go through our own pages, which audit them.
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_RESET_ENABLED = False  # our own reset flow, which audits
WAGTAILUSERS_PASSWORD_ENABLED = True

# Agreements: days a signatory organisation has to acknowledge a new material
# version of an ISA before its access to case material is suspended.
AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = env.int(
    "DJANGO_AGREEMENT_GRACE_DAYS", default=14
)

# Referrals: a draft untouched this long is deleted with what was typed into it
# (UK GDPR storage limitation: personal data kept no longer than needed).
REFERRAL_DRAFT_RETENTION_DAYS = env.int(
    "DJANGO_REFERRAL_DRAFT_RETENTION_DAYS", default=90
)

# Referrals: how long a share of a case with another organisation lasts unless
# a coordinator sets another end; the daily end_expired_referral_shares job
# ends it then (docs/features.md, "Who sees what").
REFERRAL_SHARE_DAYS = env.int("DJANGO_REFERRAL_SHARE_DAYS", default=90)

# Retention (referrals.retention): an open referral with no activity for this
# many months is listed for coordinators to close; the disposal job's period
# runs only from closure. Coordinators see cases this many days before they
# are due for disposal; /health/ says "overdue" once the job's last good run is
# older than RETENTION_RUN_STALE_HOURS.
REFERRAL_INACTIVE_MONTHS = env.int("DJANGO_REFERRAL_INACTIVE_MONTHS", default=6)
RETENTION_REVIEW_DAYS = 30
RETENTION_RUN_STALE_HOURS = 48

# Access governance (docs/features.md, "Access governance"): every
# RECERTIFICATION_INTERVAL_DAYS each organisation's single point of contact
# confirms who still needs access, within RECERTIFICATION_WINDOW_DAYS; people
# not confirmed by then, and partner accounts with no sign-in for
# DORMANT_ACCOUNT_DAYS, are suspended by the daily recertify_accounts job.
RECERTIFICATION_INTERVAL_DAYS = env.int(
    "DJANGO_RECERTIFICATION_INTERVAL_DAYS", default=91
)
RECERTIFICATION_WINDOW_DAYS = env.int("DJANGO_RECERTIFICATION_WINDOW_DAYS", default=14)
DORMANT_ACCOUNT_DAYS = env.int("DJANGO_DORMANT_ACCOUNT_DAYS", default=90)
# How long the link in a new account's invitation works.
INVITATION_DAYS = env.int("DJANGO_INVITATION_DAYS", default=7)

# Meetings: the referral deadline falls this many working days before a meeting.
# (A case's next review by risk level is meetings.services.REVIEW_DAYS.)
MEETING_REFERRAL_DEADLINE_WORKING_DAYS = 10
# Bump when the pack template changes, so every pack is rebuilt.
MEETING_PACK_TEMPLATE_VERSION = "1"
# How many processes the background worker renders a pack's sections in
# (portal.pdf.html_to_pdfs); 1 renders them one after another.
PDF_RENDER_PROCESSES = env.int(
    "DJANGO_PDF_RENDER_PROCESSES", default=os.cpu_count() or 1
)
# The longest one document (a pack's front or one case's section) may take to
# render in those processes before its build fails (a section takes about
# half a second); the pack page then says it could not be prepared.
PDF_RENDER_TIMEOUT_SECONDS = env.int("DJANGO_PDF_RENDER_TIMEOUT_SECONDS", default=120)
# Meetings: agencies download their packs until this many days after the
# minutes are issued, then the pack closes for them (the minutes carry what was
# decided; the pack's cover already asks for copies to be destroyed).
# Coordinators keep theirs until the meeting's retention period ends.
PACK_DOWNLOAD_DAYS_AFTER_MINUTES = env.int(
    "DJANGO_PACK_DOWNLOAD_DAYS_AFTER_MINUTES", default=14
)

# Days a "What's new" notice is kept, read or not; the daily
# delete_old_notices job removes older ones (docs/retention.md).
NOTICE_RETENTION_DAYS = env.int("DJANGO_NOTICE_RETENTION_DAYS", default=180)

# Months a closed subject access request, or a decided objection or erasure
# request, is kept (to answer a complaint to the ICO) before the daily
# dispose_rights_requests job deletes it with its bundles (rights.disposal).
RIGHTS_REQUEST_RETENTION_MONTHS = env.int(
    "DJANGO_RIGHTS_REQUEST_RETENTION_MONTHS", default=24
)

# Incidents (docs/features.md, "Incidents"): the handlers are emailed when
# this many hours are left of the 72 to decide on telling the ICO, and again
# once they have passed (send_incident_reminders).
INCIDENT_REMINDER_HOURS_LEFT = env.int(
    "DJANGO_INCIDENT_REMINDER_HOURS_LEFT", default=24
)

# Unusual activity alerts (incidents.alerts, raise_activity_alerts): one
# person's refusals, downloads in a burst, downloads outside working hours and
# meeting packs downloaded, each counted within its window.
ALERT_DENIALS_COUNT = env.int("DJANGO_ALERT_DENIALS_COUNT", default=20)
ALERT_DENIALS_MINUTES = env.int("DJANGO_ALERT_DENIALS_MINUTES", default=60)
ALERT_BULK_DOWNLOADS_COUNT = env.int("DJANGO_ALERT_BULK_DOWNLOADS_COUNT", default=30)
ALERT_BULK_DOWNLOADS_MINUTES = env.int(
    "DJANGO_ALERT_BULK_DOWNLOADS_MINUTES", default=10
)
ALERT_OUT_OF_HOURS_COUNT = env.int("DJANGO_ALERT_OUT_OF_HOURS_COUNT", default=3)
ALERT_PACK_DOWNLOADS_COUNT = env.int("DJANGO_ALERT_PACK_DOWNLOADS_COUNT", default=10)
ALERT_PACK_DOWNLOADS_HOURS = env.int("DJANGO_ALERT_PACK_DOWNLOADS_HOURS", default=24)
# Working hours on working days (portal.calendar), local time: downloads
# outside them count towards an alert. Hours of the day, 0 to 24.
WORKING_HOURS_START = env.int("DJANGO_WORKING_HOURS_START", default=8)
WORKING_HOURS_END = env.int("DJANGO_WORKING_HOURS_END", default=18)

# Audit log integrity (docs/audit.md). Every event is signed with an
# HMAC-SHA256 under this key, which must never be stored in the database.
# No default here: dev and test derive one, production requires its own.
AUDIT_HMAC_KEY = env.str("DJANGO_AUDIT_HMAC_KEY", default="")
# Keys used before the last rotation, still needed to verify older events.
AUDIT_HMAC_OLD_KEYS = env.list("DJANGO_AUDIT_HMAC_OLD_KEYS", default=[])
# Signed checkpoints of the chain's head (manage.py audit_checkpoint, daily) are
# appended to this file, and where set, written once each to this storage.
AUDIT_CHECKPOINT_FILE = env.path(
    "DJANGO_AUDIT_CHECKPOINT_FILE", default=BASE_DIR / "var" / "audit-checkpoints.jsonl"
)
AUDIT_CHECKPOINT_STORAGE = None  # a STORAGES alias; production sets it with S3
# An audit detail key not known to be free of personal data (audit.privacy) is
# dropped and logged here; development and tests refuse it instead.
AUDIT_DETAIL_STRICT = False
# Audit events older than this are sealed into signed segment files and leave
# the table (manage.py audit_seal, daily; docs/audit.md), unless the ISA
# version in force gives its own audit period, which then applies instead.
AUDIT_RETENTION_YEARS = env.int("DJANGO_AUDIT_RETENTION_YEARS", default=6)
# Events wait, committed, in a pending table until a chainer links them into
# the chain (usually within milliseconds); verify_audit reports any that have
# waited longer than this (docs/audit.md).
AUDIT_PENDING_GRACE_SECONDS = env.int("DJANGO_AUDIT_PENDING_GRACE_SECONDS", default=10)
# A writer chains pending events after recording its own at most once per this
# many milliseconds in each process; events in between wait for the worker's
# sequencer (which, measured, keeps the chain up with 16 writers where writers
# chaining in turn made it lag), a reader or the next writer whose turn it is
# (issue 23; docs/audit.md). 0: every writer chains.
AUDIT_CHAIN_INTERVAL_MS = env.int("DJANGO_AUDIT_CHAIN_INTERVAL_MS", default=10_000)
# How often the worker's audit sequencer chains what writers left pending
# (manage.py run_worker); 0 turns it off (the every-minute sweep remains).
AUDIT_SEQUENCER_SECONDS = env.float("DJANGO_AUDIT_SEQUENCER_SECONDS", default=1.0)
# Where sealed segments are written: a STORAGES alias (private, never public).
AUDIT_SEGMENT_STORAGE = "audit_segments"

# Protective marking shown on every page.
PROTECTIVE_MARKING = "OFFICIAL-SENSITIVE"

# Logging: never log credentials, codes or personal details.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "axes": {"level": "ERROR"},
        "django.security": {"level": "WARNING"},
    },
}

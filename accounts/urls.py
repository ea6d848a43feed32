from django.urls import path

from . import contact_views, provider_views, views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="login"),
    path(
        "sign-in/agency/<slug:slug>/",
        provider_views.provider_start,
        name="provider_start",
    ),
    path(
        "sign-in/agency-callback/",
        provider_views.provider_callback,
        name="provider_callback",
    ),
    path("sign-in/security-code/", views.verify, name="verify"),
    path("sign-in/set-up-authenticator/", views.enrol, name="enrol"),
    path("sign-out/", views.sign_out, name="logout"),
    path("session/", views.session_time_left, name="session"),
    path("account/", views.account, name="account"),
    path("account/backup-codes/", views.backup_codes_new, name="backup_codes_new"),
    path("account/password/", views.password_change, name="password_change"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("invitation/<uidb64>/<token>/", contact_views.invitation, name="invitation"),
    # The single point of contact's screens: their own organisation only.
    path(
        "accounts/organisation/",
        contact_views.organisation_people,
        name="organisation",
    ),
    path(
        "accounts/organisation/request-account/",
        contact_views.account_request,
        name="account_request",
    ),
    path(
        "accounts/organisation/people/<int:user_id>/suspend/",
        contact_views.person_suspend,
        name="person_suspend",
    ),
    path(
        "accounts/organisation/recertification/",
        contact_views.recertification,
        name="recertification",
    ),
    path(
        "accounts/recertification/",
        contact_views.recertification_progress,
        name="recertification_progress",
    ),
]

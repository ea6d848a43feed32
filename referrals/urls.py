from django.urls import path

from . import retention_views, rights_views, views

app_name = "referrals"

urlpatterns = [
    path("", views.index, name="index"),
    path("start/", views.start, name="start"),
    path("drafts/<uuid:draft_id>/", views.task_list, name="task_list"),
    path("drafts/<uuid:draft_id>/check/", views.check, name="check"),
    path("drafts/<uuid:draft_id>/delete/", views.delete_draft, name="delete_draft"),
    path(
        "drafts/<uuid:draft_id>/attachments/<int:attachment_id>/remove/",
        views.remove_attachment,
        name="remove_attachment",
    ),
    path("drafts/<uuid:draft_id>/<slug:slug>/", views.section, name="section"),
    # Before "<reference>/", which would otherwise take "retention".
    path("retention/", retention_views.retention, name="retention"),
    path(
        "retention/holds/<int:hold_id>/remove/",
        retention_views.hold_remove,
        name="hold_remove",
    ),
    path("<str:reference>/", views.detail, name="detail"),
    path("<str:reference>/submitted/", views.submitted, name="submitted"),
    path("<str:reference>/status/", views.change_status, name="change_status"),
    path("<str:reference>/answer/", views.answer, name="answer"),
    path("<str:reference>/withdraw/", views.withdraw, name="withdraw"),
    path("<str:reference>/notes/", views.add_note, name="add_note"),
    path(
        "<str:reference>/legal-hold/",
        retention_views.hold_place,
        name="hold_place",
    ),
    path("<str:reference>/restrict/", rights_views.restrict, name="restrict"),
    path(
        "<str:reference>/restrict/lift/",
        rights_views.restriction_lift,
        name="restriction_lift",
    ),
    path("<str:reference>/correct/", rights_views.amend_choose, name="amend_choose"),
    path("<str:reference>/correct/<str:answer>/", rights_views.amend, name="amend"),
    path("<str:reference>/access/new/", views.access_grant, name="access_grant"),
    path(
        "<str:reference>/access/<int:share_id>/",
        views.access_change,
        name="access_change",
    ),
    path(
        "<str:reference>/sharing-without-consent/",
        views.sharing_without_consent,
        name="sharing_without_consent",
    ),
    path(
        "<str:reference>/free-text/",
        views.free_text_review,
        name="free_text_review",
    ),
    path("<str:reference>/summary.pdf", views.summary_pdf, name="pdf"),
    path(
        "<str:reference>/attachments/<int:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
]

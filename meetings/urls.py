from django.urls import path

from . import record_views, views

app_name = "meetings"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:meeting_id>/", views.detail, name="detail"),
    path("<int:meeting_id>/pack/", views.pack, name="pack"),
    path("new/", views.schedule, name="schedule"),
    path("<int:meeting_id>/agenda/add/", views.agenda_add, name="agenda_add"),
    path(
        "<int:meeting_id>/agenda/<int:item_id>/move/",
        views.agenda_move,
        name="agenda_move",
    ),
    path(
        "<int:meeting_id>/agenda/<int:item_id>/remove/",
        views.agenda_remove,
        name="agenda_remove",
    ),
    path(
        "<int:meeting_id>/agenda/<int:item_id>/invited/",
        views.agenda_invite,
        name="agenda_invite",
    ),
    path("<int:meeting_id>/issue/", views.issue, name="issue"),
    path("<int:meeting_id>/cancel/", views.cancel, name="cancel"),
    # Invited people reply for themselves and confirm confidentiality
    path("<int:meeting_id>/reply/", views.reply, name="reply"),
    path(
        "<int:meeting_id>/confidentiality/",
        views.confidentiality,
        name="confidentiality",
    ),
    path("actions/", views.our_actions, name="our_actions"),
    path("actions/<int:action_id>/", views.update_action, name="update_action"),
    # Recording the meeting, actions and minutes (coordinators; agencies' PDF)
    path("<int:meeting_id>/record/", record_views.record, name="record"),
    path("<int:meeting_id>/record/held/", record_views.record_held, name="record_held"),
    path(
        "<int:meeting_id>/cases/<int:item_id>/",
        record_views.record_case,
        name="record_case",
    ),
    path("<int:meeting_id>/minutes/", record_views.minutes, name="minutes"),
    path(
        "<int:meeting_id>/minutes.pdf",
        record_views.minutes_download,
        name="minutes_pdf",
    ),
]

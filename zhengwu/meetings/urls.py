from django.urls import path

from zhengwu.meetings import views

app_name = "meetings"
urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("new/", views.meeting_new, name="new"),
    path("<int:meeting_id>/", views.meeting_manage, name="manage"),
    path("<int:meeting_id>/send/", views.meeting_send, name="send"),
    path("<int:meeting_id>/change/", views.meeting_change, name="change"),
    path("<int:meeting_id>/cancel/", views.meeting_cancel, name="cancel"),
    path("<int:meeting_id>/remind/", views.meeting_remind, name="remind"),
    path("<int:meeting_id>/attendees.xlsx", views.meeting_export, name="export"),
    path("<int:meeting_id>/signin.pdf", views.meeting_signin_pdf, name="signin_pdf"),
    path("<int:meeting_id>/checkin/", views.meeting_checkin, name="checkin"),
    path("<int:meeting_id>/checkin/<int:attendee_id>/", views.attendee_check_in, name="check_in"),
    path("scan/<str:token>/", views.checkin_scan, name="scan"),
    path("<int:meeting_id>/units/<int:unit_id>/", views.invitation_detail, name="register"),
    path("<int:meeting_id>/units/<int:unit_id>/add/", views.attendee_add, name="attendee_add"),
    path("<int:meeting_id>/units/<int:unit_id>/decline/", views.invitation_decline, name="decline"),
    path(
        "<int:meeting_id>/units/<int:unit_id>/attendees/<int:attendee_id>/edit/",
        views.attendee_edit,
        name="attendee_edit",
    ),
    path(
        "<int:meeting_id>/units/<int:unit_id>/attendees/<int:attendee_id>/cancel/",
        views.attendee_cancel,
        name="attendee_cancel",
    ),
    path(
        "<int:meeting_id>/units/<int:unit_id>/attendees/<int:attendee_id>/qr/",
        views.attendee_qr,
        name="attendee_qr",
    ),
]

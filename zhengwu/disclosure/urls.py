from django.urls import path

from zhengwu.disclosure import views

app_name = "disclosure"
urlpatterns = [
    # Public: the catalogue (政务信息公开目录) and the annual reports
    path("", views.catalogue, name="catalogue"),
    path("entries/<int:entry_id>/", views.entry, name="entry"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:report_id>/", views.report, name="report"),
    # The applicant (依申请公开)
    path("apply/", views.apply, name="apply"),
    path("my/", views.my_requests, name="my_requests"),
    path("requests/<int:request_id>/", views.request_detail, name="request_detail"),
    path("requests/<int:request_id>/answer/", views.supplement_answer, name="supplement_answer"),
    # The unit
    path("manage/", views.manage, name="manage"),
    path("manage/settings/", views.settings_page, name="settings"),
    path("requests/<int:request_id>/register/", views.register, name="register"),
    path("requests/<int:request_id>/supplement/", views.supplement_ask, name="supplement_ask"),
    path("requests/<int:request_id>/handle/", views.handle, name="handle"),
    path("requests/<int:request_id>/extension/", views.extension, name="extension"),
    path("requests/<int:request_id>/reply/", views.reply, name="reply"),
    path("requests/<int:request_id>/publish/", views.publish, name="publish"),
    path("entries/<int:entry_id>/edit/", views.entry_edit, name="entry_edit"),
    path("reports/generate/", views.report_generate, name="report_generate"),
    path("reports/<int:report_id>/edit/", views.report_update, name="report_update"),
    path("reports/<int:report_id>/publish/", views.report_publish, name="report_publish"),
]

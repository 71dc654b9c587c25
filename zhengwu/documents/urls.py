from django.urls import path

from zhengwu.documents import search_views, views

app_name = "documents"

urlpatterns = [
    path("", views.outgoing, name="index"),
    path("new/", views.create, name="new"),
    path("inbox/", views.inbox, name="inbox"),
    path("stats/", views.stats, name="stats"),
    path("search/", search_views.search, name="search"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/step/", views.step, name="step"),
    path("<int:pk>/files/", views.file_add, name="file_add"),
    path("<int:pk>/status/", views.status, name="status"),
    path("<int:pk>/status/rows/", views.status_rows, name="status_rows"),
    path("<int:pk>/distribute/", views.distribute, name="distribute"),
    path("<int:pk>/archive.zip", views.archive_export, name="archive"),
    path("<int:pk>/exchange/", views.exchange_action, name="exchange"),
    path("incoming/<int:pk>/", views.incoming, name="incoming"),
    path("incoming/<int:pk>/receive/", views.receive, name="receive"),
    path("incoming/<int:pk>/refuse/", views.refuse, name="refuse"),
    path("incoming/<int:pk>/register/", views.register, name="register"),
    path("incoming/<int:pk>/instruct/", views.instruct, name="instruct"),
    path("incoming/<int:pk>/step/", views.incoming_step, name="incoming_step"),
    path("incoming/<int:pk>/circulate/", views.circulate, name="circulate"),
    path("incoming/<int:pk>/urge/", views.urge, name="urge"),
    path("incoming/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("incoming/<int:pk>/extend/", views.extend, name="extend"),
    path("incoming/<int:pk>/archive.zip", views.incoming_archive, name="incoming_archive"),
    path("incoming/<int:pk>/comment/", views.comment, name="comment"),
    path("receipts/<int:pk>/paper/", views.paper_sent, name="paper_sent"),
    path("files/<int:pk>/", views.file_download, name="file"),
    path("files/<int:pk>/preview/", views.file_preview, name="preview"),
]

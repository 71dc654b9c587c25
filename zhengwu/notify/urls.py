from django.urls import path

from zhengwu.notify import views

app_name = "notify"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:notice_id>/read/", views.notice_read, name="notice_read"),
    path("read-all/", views.notices_read_all, name="notices_read_all"),
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("deliveries/<int:delivery_id>/resend/", views.delivery_resend, name="delivery_resend"),
]

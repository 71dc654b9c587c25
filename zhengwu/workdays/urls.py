from django.urls import path

from zhengwu.workdays import views

app_name = "workdays"
urlpatterns = [
    path("calendar/", views.calendar_year, name="calendar"),
    path("calendar/days/", views.calendar_day_save, name="day_save"),
    path("calendar/days/<str:day>/delete/", views.calendar_day_delete, name="day_delete"),
    path("explain/", views.explain, name="explain"),
]

from django.urls import path

from zhengwu.core import views

app_name = "core"
urlpatterns = [
    path("address-book/", views.address_book, name="address_book"),
    path("units/<int:unit_id>/", views.unit_detail, name="unit_detail"),
    path("audit/", views.audit_list, name="audit_list"),
]

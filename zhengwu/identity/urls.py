from django.urls import path

from zhengwu.identity import views

app_name = "identity"

urlpatterns = [
    path("accounts/login/", views.StaffLoginView.as_view(), name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("accounts/logout-everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("accounts/otp/setup/", views.otp_setup, name="otp_setup"),
    path("accounts/otp/verify/", views.otp_verify, name="otp_verify"),
    path("public/login/", views.PublicLoginView.as_view(), name="public_login"),
]

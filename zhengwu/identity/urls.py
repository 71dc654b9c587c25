from django.urls import path

from zhengwu.identity import views

app_name = "identity"

urlpatterns = [
    # Staff (工作人员)
    path("accounts/login/", views.StaffLoginView.as_view(), name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("accounts/logout-everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("accounts/otp/setup/", views.otp_setup, name="otp_setup"),
    path("accounts/otp/verify/", views.otp_verify, name="otp_verify"),
    path("accounts/otp/disable/", views.otp_disable, name="otp_disable"),
    path("accounts/security/", views.account_security, name="account_security"),
    path("accounts/password/", views.password_change, name="password_change"),
    path("accounts/lockouts/", views.lockouts, name="lockouts"),
    # The public (公众/企业)
    path("public/login/", views.PublicLoginView.as_view(), name="public_login"),
    path("public/register/", views.public_register, name="public_register"),
    path("public/password-reset/", views.public_password_reset, name="public_password_reset"),
    path("public/account/", views.public_account, name="public_account"),
]

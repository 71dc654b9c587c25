"""The OpenID Connect provider's URLs (mounted at /o/ under the ``oauth2_provider`` namespace).

Django OAuth Toolkit's own URL set is not mounted as a whole: its client-management views only ask for
a signed-in user, and its device-flow and dynamic-registration endpoints are not used here. The
protocol endpoints come from the toolkit; the consent screen and the client register (same URL names)
are this app's own, restricted to staff and to the platform system admin respectively.
"""

from django.urls import path
from oauth2_provider import urls as dot_urls
from oauth2_provider import views as dot_views

from zhengwu.identity import views

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", views.StaffAuthorizationView.as_view(), name="authorize"),
    path("token/", dot_views.TokenView.as_view(), name="token"),
    path("revoke_token/", dot_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", dot_views.IntrospectTokenView.as_view(), name="introspect"),
    # 接入系统登记: platform system admins only.
    path("applications/", views.oidc_client_list, name="list"),
    path("applications/register/", views.oidc_client_create, name="register"),
    path("applications/<int:pk>/", views.oidc_client_detail, name="detail"),
    path("applications/<int:pk>/update/", views.oidc_client_update, name="update"),
    path("applications/<int:pk>/delete/", views.oidc_client_delete, name="delete"),
    path("applications/<int:pk>/secret/", views.oidc_client_reset_secret, name="reset-secret"),
    *dot_urls.oidc_urlpatterns,
    # RFC 8414 metadata: also what the toolkit derives the RFC 9207 `iss` of authorization responses from,
    # so it must be mounted under the same prefix as the OIDC discovery document.
    *dot_urls.metadata_urlpatterns,
]

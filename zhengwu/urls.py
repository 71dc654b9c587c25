from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("zhengwu.identity.urls")),
    path("o/", include("zhengwu.identity.oauth_urls", namespace="oauth2_provider")),
    path("workbench/", include("zhengwu.workbench.urls")),
    path("", include("zhengwu.core.urls")),
    path("flow/", include("zhengwu.flow.urls")),
    path("documents/", include("zhengwu.documents.urls")),
    path("meetings/", include("zhengwu.meetings.urls")),
    path("workdays/", include("zhengwu.workdays.urls")),
    path("notify/", include("zhengwu.notify.urls")),
    path("disclosure/", include("zhengwu.disclosure.urls")),
    path("django-admin/", admin.site.urls),
    path("", include("zhengwu.portal.urls")),
]

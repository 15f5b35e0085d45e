from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from config import health
from groups.views.personal import home as groups_home

admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Hearth administration"
admin.site.site_title = "Hearth admin"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("groups.urls")),
    path("prompts/", include("prompts.urls")),
    path("", include("facilitation.urls")),
    path("", include("safety.urls")),
    path("", include("reminders.urls")),
    path("", include("journal.urls")),
    path("", groups_home, name="home"),
]

"""The project's URLs, plus the prompts app if config/urls.py does not yet
include it (it is wired by the lead; this keeps the tests independent)."""

from django.urls import include, path

from config.urls import urlpatterns as project_patterns

_wired = any(getattr(p, "namespace", None) == "prompts" for p in project_patterns)

urlpatterns = list(project_patterns)
if not _wired:
    urlpatterns.append(path("prompts/", include("prompts.urls")))

from django.urls import path

from .views import groups, not_safe, queue, support

app_name = "safety"
urlpatterns = [
    path("support/", support.support, name="support"),
    path("support/reports/", support.my_reports, name="my_reports"),
    path("support/not-safe/", not_safe.not_safe, name="not_safe"),
    path("moderation/", queue.queue, name="queue"),
    path("moderation/held/<int:pk>/<str:decision>/", queue.decide, name="decide_held"),
    path("moderation/reports/<int:pk>/resolve/", queue.resolve, name="resolve_report"),
    path(
        "moderation/alerts/<int:pk>/acknowledge/",
        queue.acknowledge,
        name="acknowledge_alert",
    ),
    path("groups/<slug:slug>/support/", groups.group_support, name="group_support"),
    path("groups/<slug:slug>/support/pin/", groups.pin, name="pin"),
    path("groups/<slug:slug>/support/pins/<int:pk>/unpin/", groups.unpin, name="unpin"),
    path("groups/<slug:slug>/support/policy/", groups.policy, name="policy"),
    path(
        "groups/<slug:slug>/guidelines/accept/", groups.accept, name="accept_guidelines"
    ),
]

from django.urls import path

from . import views

app_name = "reminders"
urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("me/emails/", views.preferences, name="preferences"),
    path("dev/outbox/", views.outbox, name="outbox"),
    path("dev/outbox/<str:name>/html/", views.outbox_html, name="outbox_html"),
    path(
        "dev/outbox/<str:name>/attachments/<int:index>/",
        views.outbox_attachment,
        name="outbox_attachment",
    ),
]

from django.urls import path

from . import views

app_name = "journal"
urlpatterns = [
    path("journal/", views.index, name="index"),
    path("journal/sessions/<int:meeting_id>/", views.reflect, name="reflect"),
    path("journal/<int:pk>/", views.detail, name="detail"),
    path("journal/<int:pk>/sharing/", views.sharing, name="sharing"),
    path("journal/<int:pk>/delete/", views.delete, name="delete"),
    path("journal/groups/<slug:slug>/shared/", views.shared, name="shared"),
]

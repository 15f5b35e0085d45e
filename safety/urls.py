from django.urls import path

from . import views

app_name = "safety"
urlpatterns = [
    path("support/", views.support, name="support"),
]

from django.urls import path

from . import views

app_name = "facilitation"
urlpatterns = [
    path("sessions/<int:pk>/room/", views.room, name="room"),
]

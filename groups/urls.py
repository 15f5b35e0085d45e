from django.urls import path

from .views import groups, meetings, members, personal

app_name = "groups"
urlpatterns = [
    path("groups/", groups.directory, name="directory"),
    path("groups/new/", groups.create, name="create"),
    path("groups/<slug:slug>/", groups.detail, name="detail"),
    path("groups/<slug:slug>/edit/", groups.edit, name="edit"),
    path("groups/<slug:slug>/join/", groups.join, name="join"),
    path("groups/<slug:slug>/join/withdraw/", groups.withdraw, name="withdraw"),
    path("groups/<slug:slug>/leave/", groups.leave, name="leave"),
    path("groups/<slug:slug>/me/", groups.my_name, name="my_name"),
    path("groups/<slug:slug>/members/", members.manage, name="members"),
    path(
        "groups/<slug:slug>/requests/<int:pk>/<str:action>/",
        members.decide,
        name="decide",
    ),
    path("groups/<slug:slug>/members/<int:pk>/role/", members.change_role, name="role"),
    path("groups/<slug:slug>/members/<int:pk>/remove/", members.remove, name="remove"),
    path("groups/<slug:slug>/invitations/", members.invite, name="invite"),
    path(
        "groups/<slug:slug>/invitations/<int:pk>/revoke/",
        members.revoke,
        name="revoke",
    ),
    path("groups/<slug:slug>/sessions/new/", meetings.new_meeting, name="new_meeting"),
    path("groups/<slug:slug>/series/new/", meetings.new_series, name="new_series"),
    path("invite/<str:token>/", groups.invitation, name="invitation"),
    path("sessions/<int:pk>/", meetings.detail, name="meeting"),
    path("sessions/<int:pk>/edit/", meetings.edit, name="meeting_edit"),
    path("sessions/<int:pk>/cancel/", meetings.cancel, name="meeting_cancel"),
    path("sessions/<int:pk>/rsvp/", meetings.rsvp, name="rsvp"),
    path("sessions/<int:pk>/calendar.ics", meetings.meeting_ics, name="meeting_ics"),
    path("me/groups/", groups.mine, name="mine"),
    path("me/schedule/", personal.schedule, name="schedule"),
    path("me/calendar/", personal.calendar, name="calendar"),
    path("calendar/<str:token>.ics", meetings.feed, name="feed"),
]

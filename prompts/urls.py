from django.urls import path

from prompts.views import library, plans

app_name = "prompts"

urlpatterns = [
    path("", library.library_list, name="library"),
    path("new/", library.prompt_create, name="create"),
    path("mine/", library.my_prompts, name="mine"),
    path("review/", library.review_queue, name="queue"),
    path("<int:pk>/", library.prompt_detail, name="detail"),
    path("<int:pk>/edit/", library.prompt_edit, name="edit"),
    path("<int:pk>/submit/", library.prompt_submit, name="submit"),
    path("<int:pk>/review/", library.prompt_review, name="review"),
    path("plans/", plans.plan_list, name="plans"),
    path("plans/new/", plans.plan_create, name="plan_create"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", plans.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/duplicate/", plans.plan_duplicate, name="plan_duplicate"),
    path("plans/<int:pk>/attach/", plans.plan_attach, name="plan_attach"),
    path(
        "plans/<int:pk>/assignments/<int:assignment_pk>/detach/",
        plans.plan_detach,
        name="plan_detach",
    ),
    path("plans/<int:pk>/items/", plans.plan_add_item, name="plan_add_item"),
    path(
        "plans/<int:pk>/items/<int:item_pk>/minutes/",
        plans.plan_item_minutes,
        name="plan_item_minutes",
    ),
    path(
        "plans/<int:pk>/items/<int:item_pk>/move/",
        plans.plan_item_move,
        name="plan_item_move",
    ),
    path(
        "plans/<int:pk>/items/<int:item_pk>/remove/",
        plans.plan_item_remove,
        name="plan_item_remove",
    ),
    path(
        "plans/<int:pk>/items/<int:item_pk>/refresh/",
        plans.plan_item_refresh,
        name="plan_item_refresh",
    ),
]

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_facilitator_role(sender: object, **kwargs: object) -> None:
    """A 'Facilitators' auth group holding the permission to create groups,
    so admins grant it by adding a person to the group."""
    from django.contrib.auth.models import Group, Permission

    permission = Permission.objects.filter(
        codename="create_group", content_type__app_label="groups"
    ).first()
    if permission is None:
        return
    role, _ = Group.objects.get_or_create(name="Facilitators")
    role.permissions.add(permission)


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = "Groups and sessions"

    def ready(self) -> None:
        post_migrate.connect(ensure_facilitator_role, sender=self)

from django.apps import AppConfig


class FacilitationConfig(AppConfig):
    name = "facilitation"
    verbose_name = "Live rooms"

    def ready(self) -> None:
        from . import receivers, signals  # noqa: F401

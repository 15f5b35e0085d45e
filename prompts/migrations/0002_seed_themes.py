from django.db import migrations

# The first community's themes. Kept inline: a migration must not change
# when application code does.
THEMES = [
    ("asking-for-help", "Asking for help"),
    ("trust", "Trust"),
    ("vulnerability", "Vulnerability"),
    ("carrying-it-all", "Carrying it all alone"),
    ("burnout-and-rest", "Burnout and rest"),
    ("boundaries", "Boundaries"),
    ("nervous-system", "The nervous system and safety"),
    ("self-compassion", "Self-compassion"),
    ("relationships", "Relationships"),
    ("choice-and-autonomy", "Choice and autonomy"),
]


def seed(apps, schema_editor):
    Theme = apps.get_model("prompts", "Theme")
    for position, (slug, name) in enumerate(THEMES):
        Theme.objects.get_or_create(
            slug=slug, defaults={"name": name, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("prompts", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

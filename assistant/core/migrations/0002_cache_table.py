"""The database cache's table (settings.CACHES): throttle counts that every web process shares."""

from typing import Any

from django.core.management import call_command
from django.db import migrations


def create(apps: Any, schema_editor: Any) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_vector_extension")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

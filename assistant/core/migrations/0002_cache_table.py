"""The database cache's table: the throttle counts every web process shares where the broker is not
Redis (settings.CACHES). Made whatever the cache is set to now, so that a later switch finds it."""

from typing import Any

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "finassist_cache"


def create(apps: Any, schema_editor: Any) -> None:
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_vector_extension")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

# A collection's partition is made and dropped through these two functions, which run as the role
# that ran this migration (the chunk table's owner): making a partition of a table takes owning the
# table, and the application's role owns nothing (docs/deploy.md, "Database roles"). Each does one
# thing, to the partition of one collection named by its id (its name as
# `assistant.knowledge.partitions.partition_name` makes it), so the role that may run them (granted
# by `manage.py grant_app_role`) gains no other DDL. Partitions stay the owner's, as the
# migrations that later alter the chunk table need.

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION knowledge_partition_create(collection_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF knowledge_chunk FOR VALUES IN (%s)',
        'knowledge_chunk_c' || collection_id, collection_id
    );
END $$;

CREATE OR REPLACE FUNCTION knowledge_partition_drop(collection_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    EXECUTE format('DROP TABLE IF EXISTS %I', 'knowledge_chunk_c' || collection_id);
END $$;

-- As every SECURITY DEFINER function should: names resolve in this schema, temporary objects
-- of the caller last, so no table of the caller's can stand in for the chunk table.
DO $$ BEGIN
    EXECUTE format(
        'ALTER FUNCTION knowledge_partition_create(bigint) SET search_path = %I, pg_temp', current_schema()
    );
    EXECUTE format(
        'ALTER FUNCTION knowledge_partition_drop(bigint) SET search_path = %I, pg_temp', current_schema()
    );
END $$;

-- Functions are executable by everyone unless revoked; these only by the roles granted them.
REVOKE EXECUTE ON FUNCTION knowledge_partition_create(bigint), knowledge_partition_drop(bigint) FROM PUBLIC;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0006_upload"),
    ]

    operations = [
        migrations.RunSQL(
            FUNCTIONS,
            "DROP FUNCTION knowledge_partition_create(bigint); DROP FUNCTION knowledge_partition_drop(bigint);",
        ),
    ]

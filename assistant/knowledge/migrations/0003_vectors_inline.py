# Vectors inline, uncompressed (PLAIN) rather than in the TOAST table: an exact scan of a
# small partition then reads each vector from its row instead of one TOAST lookup per row
# (a 10,000-chunk partition took 66 ms, mostly TOAST reads). Applies to rows written after.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0002_lexicon_per_collection"),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE knowledge_chunk ALTER COLUMN embedding SET STORAGE PLAIN",
            "ALTER TABLE knowledge_chunk ALTER COLUMN embedding SET STORAGE EXTERNAL",
        ),
    ]

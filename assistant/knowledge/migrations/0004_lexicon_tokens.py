# Full-text ranking (BM25) normalises a chunk's length by its collections' mean: the
# counts already kept are completed from the chunks, so no collection waits for a refresh.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0003_vectors_inline"),
    ]

    operations = [
        migrations.AddField(
            model_name="lexiconstate",
            name="tokens",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunSQL(
            "UPDATE knowledge_lexiconstate s SET tokens = coalesce("
            "(SELECT sum(c.token_count) FROM knowledge_chunk c WHERE c.collection_id = s.collection_id), 0)",
            migrations.RunSQL.noop,
        ),
    ]

# The word counts are derived data (rebuilt by lexicon_refresh): dropped and made anew
# per collection rather than migrated.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="Lexeme"),
        migrations.DeleteModel(name="LexiconState"),
        migrations.CreateModel(
            name="Lexeme",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("lexeme", models.TextField()),
                ("chunks", models.PositiveIntegerField()),
                (
                    "collection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="knowledge.collection"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("collection", "lexeme"), name="lexeme_unique_per_collection")
                ],
            },
        ),
        migrations.CreateModel(
            name="LexiconState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("chunks", models.PositiveIntegerField(default=0)),
                ("last_chunk_id", models.BigIntegerField(default=0)),
                ("refreshed_at", models.DateTimeField(null=True)),
                (
                    "collection",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="knowledge.collection"
                    ),
                ),
            ],
        ),
    ]

import django.contrib.postgres.search
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('knowledge', '0007_partition_functions'),
    ]

    operations = [
        migrations.AddField(
            model_name='chunk',
            name='words',
            field=models.TextField(blank=True, db_default='', help_text='the heading and text with a space between words, for full-text search, where they hold Chinese (written without spaces); empty otherwise'),
        ),
        migrations.AddField(
            model_name='document',
            name='language',
            field=models.CharField(choices=[('en', 'English'), ('zh', 'Chinese')], default='en', help_text='detected when indexed', max_length=8),
        ),
        # Django drops and re-adds a generated column to change it; PostgreSQL 17 and later
        # change its expression in place, keeping the column's index.
        migrations.RunSQL(
            sql="""
                ALTER TABLE knowledge_chunk ALTER COLUMN search_vector SET EXPRESSION AS (
                    CASE WHEN words = '' THEN
                        setweight(to_tsvector('english'::regconfig, COALESCE(heading, '')), 'A')
                        || setweight(to_tsvector('english'::regconfig, COALESCE(text, '')), 'D')
                    ELSE setweight(to_tsvector('english'::regconfig, COALESCE(words, '')), 'D') END
                )
            """,
            reverse_sql="""
                ALTER TABLE knowledge_chunk ALTER COLUMN search_vector SET EXPRESSION AS (
                    setweight(to_tsvector('english'::regconfig, COALESCE(heading, '')), 'A')
                    || setweight(to_tsvector('english'::regconfig, COALESCE(text, '')), 'D')
                )
            """,
            state_operations=[
            migrations.AlterField(
                model_name='chunk',
                name='search_vector',
                field=models.GeneratedField(db_persist=True, expression=models.Case(models.When(then=django.contrib.postgres.search.CombinedSearchVector(django.contrib.postgres.search.SearchVector('heading', config='english', weight='A'), '||', django.contrib.postgres.search.SearchVector('text', config='english', weight='D'), django.contrib.postgres.search.SearchConfig('english')), words=''), default=django.contrib.postgres.search.SearchVector('words', config='english', weight='D')), output_field=django.contrib.postgres.search.SearchVectorField()),
            ),
            ],
        ),
    ]

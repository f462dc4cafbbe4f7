from django.db import migrations, models


def number_versions(apps, schema_editor):
    """Number each task's existing versions 1, 2, … in the order they were created."""
    ModelVersion = apps.get_model("training", "ModelVersion")
    counts = {}
    for version in ModelVersion.objects.order_by("created_at", "pk").only("pk", "task"):
        counts[version.task] = counts.get(version.task, 0) + 1
        ModelVersion.objects.filter(pk=version.pk).update(number=counts[version.task])


class Migration(migrations.Migration):

    dependencies = [
        ('training', '0004_trainingrun_sent_alone'),
    ]

    operations = [
        migrations.AddField(
            model_name='modelversion',
            name='number',
            field=models.PositiveIntegerField(null=True, editable=False),
        ),
        migrations.RunPython(number_versions, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='modelversion',
            name='number',
            field=models.PositiveIntegerField(editable=False, help_text="its number among its task's versions, by creation: v1, v2, …"),
        ),
        migrations.AddConstraint(
            model_name='modelversion',
            constraint=models.UniqueConstraint(fields=('task', 'number'), name='one_number_per_task_version'),
        ),
    ]

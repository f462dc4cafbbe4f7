from typing import Any

from django.db import migrations, models


def runs_inside_arms(apps: Any, schema_editor: Any) -> None:
    """The runs of studies made so far are run by their arms, not sent alone."""
    ArmRun = apps.get_model("lab", "ArmRun")
    TrainingRun = apps.get_model("training", "TrainingRun")
    TrainingRun.objects.filter(pk__in=ArmRun.objects.values("run_id")).update(sent_alone=False)


class Migration(migrations.Migration):
    dependencies = [
        ("lab", "0002_study_kinds_and_plans"),
        ("training", "0004_trainingrun_sent_alone"),
    ]

    operations = [
        migrations.AddField(
            model_name="arm",
            name="progressed_at",
            field=models.DateTimeField(
                blank=True, help_text="when its stage last changed (the stale-work sweep reads it)", null=True
            ),
        ),
        migrations.RunPython(runs_inside_arms, migrations.RunPython.noop),
    ]

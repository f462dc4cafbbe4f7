from django.db import models


class UnsentTask(models.Model):
    """A task the broker did not take when the transaction that asked for it committed; the
    `core.send_unsent` sweep sends it once the broker answers again."""

    name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    not_before = models.DateTimeField(help_text="when it was due to run (the end of its countdown)")
    error = models.TextField(help_text="what the broker answered")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.name}{tuple(self.args)}"

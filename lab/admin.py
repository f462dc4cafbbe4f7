from django.contrib import admin
from django.http import HttpRequest

from lab.models import Arm, Study


class ArmInline(admin.TabularInline):
    model = Arm
    fields = ("technique", "status", "stage", "error", "finished_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Study | None = None) -> bool:
        return False


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    """Studies are started and read at /lab/; the admin lists them and can delete old ones."""

    list_display = ("pk", "task", "status", "created_by", "created_at", "finished_at")
    list_filter = ("status", "task")
    readonly_fields = [f.name for f in Study._meta.fields]
    inlines = [ArmInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

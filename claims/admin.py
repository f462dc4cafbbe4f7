from django.contrib import admin

from claims.models import Policy


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["number", "holder_name", "line_of_business", "effective_from", "effective_to", "limit"]
    list_filter = ["line_of_business"]
    search_fields = ["number", "holder_name"]
    date_hierarchy = "effective_from"

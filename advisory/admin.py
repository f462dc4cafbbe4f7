from django.contrib import admin

from advisory.models import Client


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["reference", "full_name", "advisor", "risk_tolerance", "horizon_years"]
    list_filter = ["risk_tolerance", "income_band"]
    search_fields = ["reference", "full_name"]
    autocomplete_fields = ["advisor"]

from django.contrib import admin

from aml.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["reference", "name", "kind", "country", "risk_rating", "onboarded_on"]
    list_filter = ["kind", "risk_rating", "country"]
    search_fields = ["reference", "name"]

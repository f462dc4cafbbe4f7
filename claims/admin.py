from django.contrib import admin
from django.http import HttpRequest

from claims.models import Claim, Decision, FraudCalibration, Policy


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["number", "holder_name", "line_of_business", "effective_from", "effective_to", "limit"]
    list_filter = ["line_of_business"]
    search_fields = ["number", "holder_name"]
    date_hierarchy = "effective_from"


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    """Read-only: claims arrive through the API and are decided in the adjusters' pages."""

    list_display = ["external_id", "system", "policy", "amount_claimed", "currency", "status", "created_at"]
    list_filter = ["status", "system"]
    search_fields = ["external_id", "policy__number"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = [
        "claim",
        "adjuster",
        "route",
        "line_of_business",
        "fraud_suspected",
        "overridden",
        "decided_at",
    ]
    list_filter = ["route", "line_of_business", "fraud_suspected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(FraudCalibration)
class FraudCalibrationAdmin(admin.ModelAdmin):
    list_display = ["model_version", "bias", "metrics", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

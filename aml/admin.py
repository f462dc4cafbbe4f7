from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from aml.models import (
    Account,
    AuditEvent,
    Customer,
    RiskCalibration,
    Rule,
    Screening,
    ScreeningBatch,
    Transaction,
)
from aml.rules import rule_parameters_errors
from aml.services.rules import rule_update


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["reference", "name", "kind", "country", "risk_rating", "onboarded_on"]
    list_filter = ["kind", "risk_rating", "country"]
    search_fields = ["reference", "name"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "kind", "currency", "opened_on"]
    list_filter = ["kind", "currency"]
    search_fields = ["number", "customer__reference", "customer__name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "account",
        "booked_at",
        "direction",
        "amount",
        "currency",
        "channel",
        "counterparty_name",
        "counterparty_country",
    ]
    list_filter = ["direction", "channel", "currency"]
    search_fields = ["narrative", "counterparty_name", "counterparty_account", "external_id"]
    date_hierarchy = "booked_at"
    list_select_related = ["account"]
    autocomplete_fields = ["account"]


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = ["enabled", "parameters", "weight"]

    def clean_parameters(self) -> Any:
        parameters = self.cleaned_data["parameters"]
        errors = rule_parameters_errors(self.instance.code, parameters)
        if errors:
            raise forms.ValidationError(errors)
        return parameters


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    """What a rule does is code, so rules are neither added nor deleted here: only switched,
    tuned and weighted, each change recorded in the audit trail."""

    form = RuleForm
    list_display = ["reason_code", "name", "enabled", "weight", "parameters", "updated_at"]
    list_editable = ["enabled"]
    readonly_fields = ["code", "reason_code", "name", "description", "updated_at"]
    fields = ["code", "reason_code", "name", "description", "enabled", "parameters", "weight", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Rule, form: forms.ModelForm, change: bool) -> None:
        rule_update(
            obj,
            actor=request.user.get_username(),
            enabled=obj.enabled,
            parameters=obj.parameters,
            weight=obj.weight,
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the services write (screenings, calibrations, batches): inspected here, never edited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Events are appended by the services, and the database refuses any change."""

    list_display = ["sequence", "occurred_at", "actor", "action", "subject"]
    list_filter = ["action"]
    search_fields = ["actor", "action", "subject"]
    date_hierarchy = "occurred_at"

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyAdmin):
    list_display = ["pk", "subject_kind", "customer", "risk", "typology", "system", "created_at"]
    list_filter = ["subject_kind", "typology"]
    search_fields = ["customer__reference", "transaction__external_id", "document_name"]
    list_select_related = ["customer", "system"]


@admin.register(ScreeningBatch)
class ScreeningBatchAdmin(ReadOnlyAdmin):
    list_display = ["pk", "system", "status", "total", "screened", "created_at", "finished_at"]
    list_filter = ["status"]
    exclude = ["transactions"]


@admin.register(RiskCalibration)
class RiskCalibrationAdmin(ReadOnlyAdmin):
    list_display = ["pk", "model_version", "rules_digest", "bias", "weights", "created_at"]

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_noop


class CustomerKind(models.TextChoices):
    INDIVIDUAL = "individual", gettext_noop("Individual")
    BUSINESS = "business", gettext_noop("Business")


class RiskRating(models.TextChoices):
    LOW = "low", gettext_noop("Low")
    MEDIUM = "medium", gettext_noop("Medium")
    HIGH = "high", gettext_noop("High")


class Customer(models.Model):
    """A customer whose transactions and documents are screened."""

    reference = models.CharField(max_length=32, unique=True, help_text="customer number")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=CustomerKind.choices)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 country of residence")
    risk_rating = models.CharField(max_length=8, choices=RiskRating.choices, default=RiskRating.LOW)
    onboarded_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reference"]

    def __str__(self) -> str:
        return f"{self.name} ({self.reference})"


CURRENCY_CODE = Q(currency__regex=r"^[A-Z]{3}$")


class AccountKind(models.TextChoices):
    CURRENT = "current"
    SAVINGS = "savings"
    BUSINESS = "business"


class Account(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="accounts")
    number = models.CharField(max_length=34, unique=True, help_text="IBAN or the bank's own number")
    currency = models.CharField(max_length=3, help_text="ISO 4217 code")
    opened_on = models.DateField()
    kind = models.CharField(max_length=16, choices=AccountKind.choices)

    class Meta:
        ordering = ["number"]
        constraints = [models.CheckConstraint(condition=CURRENCY_CODE, name="account_currency_iso4217")]

    def __str__(self) -> str:
        return f"{self.number} ({self.currency})"


class Direction(models.TextChoices):
    IN = "in", gettext_noop("incoming")
    OUT = "out", gettext_noop("outgoing")


class Channel(models.TextChoices):
    CASH = "cash", gettext_noop("Cash")
    WIRE = "wire", gettext_noop("Wire")
    CARD = "card", gettext_noop("Card")
    ACH = "ach", gettext_noop("ACH")
    CRYPTO = "crypto", gettext_noop("Crypto")
    CHEQUE = "cheque", gettext_noop("Cheque")


class Transaction(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="transactions")
    external_id = models.CharField(
        max_length=100, help_text="the transaction's id in the core banking system"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="always positive; see direction")
    currency = models.CharField(max_length=3, help_text="ISO 4217 code")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    counterparty_name = models.CharField(max_length=200)
    counterparty_account = models.CharField(max_length=64, blank=True)
    counterparty_country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166-1 alpha-2; empty when unknown"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    booked_at = models.DateTimeField()
    narrative = models.TextField(blank=True, help_text="the payment reference or description")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["booked_at", "pk"]
        indexes = [models.Index(fields=["account", "booked_at"], name="aml_transaction_account_time")]
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="transaction_external_id_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="transaction_amount_positive"),
            models.CheckConstraint(condition=CURRENCY_CODE, name="transaction_currency_iso4217"),
            models.CheckConstraint(
                condition=Q(counterparty_country="") | Q(counterparty_country__regex=r"^[A-Z]{2}$"),
                name="transaction_counterparty_country_iso3166",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id}: {self.direction} {self.amount} {self.currency}"


class Rule(models.Model):
    """A deterministic screening rule. What it does is code (`aml.rules`); its switch, thresholds
    and weight are settings compliance edits in the admin, every change audited."""

    code = models.SlugField(max_length=64, unique=True, help_text="the rule's function in aml.rules")
    name = models.CharField(max_length=200)
    description = models.TextField()
    enabled = models.BooleanField(default=True)
    reason_code = models.CharField(
        max_length=8, unique=True, help_text="what alerts and reports cite, e.g. R01"
    )
    parameters = models.JSONField(default=dict, help_text="thresholds, by name")
    weight = models.FloatField(default=1.0, help_text="a hit's weight in the combined risk score")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["reason_code"]
        constraints = [models.CheckConstraint(condition=Q(weight__gte=0), name="rule_weight_not_negative")]

    def __str__(self) -> str:
        return f"{self.reason_code} {self.name}"


RISK_RANGE = Q(risk__gte=0) & Q(risk__lte=1)


class ScreeningBatch(models.Model):
    """Transactions an integrating system sent at once, screened in the background."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        COMPLETE = "complete"
        ERROR = "error"

    system = models.ForeignKey("integrations.System", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    transactions = models.ManyToManyField(Transaction, related_name="+")
    total = models.PositiveIntegerField()
    screened = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    progressed_at = models.DateTimeField(
        null=True, blank=True, help_text="when its screening last moved on (the stale-work sweep reads it)"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "screening batches"

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.screened}/{self.total}, {self.status})"


class RiskCalibration(models.Model):
    """How the rules, as set now, and one typology model version combine into a risk: a logistic
    regression fitted on generated scenarios the model never trained on (see `aml.risk`)."""

    model_version = models.ForeignKey(
        "training.ModelVersion", on_delete=models.CASCADE, related_name="aml_risk_calibrations"
    )
    rules_digest = models.CharField(
        max_length=64, help_text="SHA-256 of the enabled rules' settings it was fitted with"
    )
    bias = models.FloatField()
    weights = models.JSONField(help_text="feature -> coefficient")
    metrics = models.JSONField(default=dict, help_text="measured on held-out scenarios")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_version", "rules_digest"], name="risk_calibration_unique")
        ]

    def __str__(self) -> str:
        return f"risk calibration of model version {self.model_version_id}"


class Screening(models.Model):
    """One screening of a transaction or of a customer's document: rule hits, model scores, risk."""

    class SubjectKind(models.TextChoices):
        TRANSACTION = "transaction"
        DOCUMENT = "document"

    subject_kind = models.CharField(max_length=16, choices=SubjectKind.choices)
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="screenings"
    )
    document_name = models.CharField(max_length=255, blank=True)
    document_text = models.TextField(blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="screenings")
    system = models.ForeignKey(
        "integrations.System",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="the integrating system that asked for it; empty for screenings made here",
    )
    batch = models.ForeignKey(
        ScreeningBatch, on_delete=models.CASCADE, null=True, blank=True, related_name="screenings"
    )
    typology = models.CharField(max_length=32, blank=True, help_text="the typology model's reading")
    rule_hits = models.JSONField(
        default=list,
        blank=True,
        help_text="each hit: code, reason_code, name, detail, evidence (transaction ids), weight",
    )
    model_scores = models.JSONField(default=dict, blank=True, help_text="typology -> probability")
    risk = models.FloatField(null=True, blank=True, help_text="0 to 1; empty until scored")
    explanation = models.JSONField(default=dict, blank=True)
    model_versions = models.JSONField(default=dict, blank=True, help_text="task -> model version id")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(subject_kind="transaction") & Q(transaction__isnull=False))
                | (Q(subject_kind="document") & Q(transaction__isnull=True) & ~Q(document_name="")),
                name="screening_subject_matches_kind",
            ),
            models.CheckConstraint(condition=Q(risk__isnull=True) | RISK_RANGE, name="screening_risk_range"),
            # A batch screens each of its transactions once, however many workers resume it.
            models.UniqueConstraint(fields=["batch", "transaction"], name="screening_once_per_batch"),
        ]

    def __str__(self) -> str:
        subject = f"transaction {self.transaction_id}" if self.transaction_id else self.document_name
        return f"screening {self.pk} of {subject}"

    @property
    def screened_text(self) -> str:
        """What the typology model read: the transaction's narrative or the document's text."""
        return self.transaction.narrative if self.transaction is not None else self.document_text


class Alert(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", gettext_noop("Open")
        IN_PROGRESS = "in_progress", gettext_noop("in progress")
        CLOSED = "closed", gettext_noop("Closed")

    screening = models.OneToOneField(Screening, on_delete=models.PROTECT, related_name="alert")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="alerts")
    risk = models.FloatField(help_text="0 to 1")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    locked_at = models.DateTimeField(null=True, blank=True, help_text="when the assignee took it")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-risk", "created_at"]
        indexes = [models.Index(fields=["status", "-risk", "created_at"], name="aml_alert_queue")]
        constraints = [models.CheckConstraint(condition=RISK_RANGE, name="alert_risk_range")]

    def __str__(self) -> str:
        return f"alert {self.pk} ({self.risk:.2f}, {self.status})"


class Case(models.Model):
    """An analyst's investigation of one alert, ending in a decision: closed, or escalated with a SAR."""

    class Status(models.TextChoices):
        OPEN = "open", gettext_noop("Open")
        CLOSED = "closed", gettext_noop("Closed")
        ESCALATED = "escalated", gettext_noop("Escalated")

    class Decision(models.TextChoices):
        NONE = "", gettext_noop("undecided")
        CLOSED = "closed", gettext_noop("Closed")
        ESCALATED = "escalated", gettext_noop("Escalated")

    alert = models.OneToOneField(Alert, on_delete=models.PROTECT, related_name="case")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    notes = models.TextField(blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True, default=Decision.NONE)
    decision_reason = models.TextField(blank=True)
    typology = models.CharField(
        max_length=32, blank=True, help_text="the analyst's typology; 'none' for ordinary activity"
    )
    sar_draft = models.TextField(blank=True, help_text="suspicious activity report draft, when escalated")
    attachments = models.JSONField(
        default=list,
        blank=True,
        help_text="each: name, content type, size, SHA-256, storage path, who uploaded it and when",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(decision="") & Q(decided_at__isnull=True))
                | (~Q(decision="") & Q(decided_at__isnull=False)),
                name="case_decided_at_with_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.pk} ({self.status})"


class CaseQuestion(models.Model):
    """A question an analyst asked on a case, answered from the AML knowledge collections."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="questions")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    question = models.TextField()
    answer = models.TextField()
    citations = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"question {self.pk} on case {self.case_id}"


AUDIT_ACTION = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"


class AuditEventImmutable(Exception):
    """Raised on any attempt to change or delete an audit event from Python."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: object) -> int:
        raise AuditEventImmutable("audit events are append-only: they cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditEventImmutable("audit events are append-only: they cannot be deleted")


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit trail; `aml.services.audit.audit_record` writes it.

    Each event's hash covers its content and the previous event's hash, so an edit, a deletion or
    a reordering shows in `aml.services.audit.audit_verify`. A trigger refuses UPDATE and DELETE.
    """

    sequence = models.PositiveBigIntegerField(unique=True, help_text="1, 2, 3, … without gaps")
    occurred_at = models.DateTimeField()
    actor = models.CharField(max_length=150, help_text="a username, or 'system'")
    action = models.CharField(max_length=64, help_text="e.g. alert.taken, case.escalated, rule.changed")
    subject = models.CharField(max_length=200, help_text="what the action was on, e.g. alert:12")
    payload = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    mac = models.CharField(
        max_length=64,
        blank=True,
        help_text="HMAC of the hash under FINASSIST_AUDIT_KEY, kept out of the database",
    )

    objects = AuditEventQuerySet.as_manager()
    # The application's database role may only read and append to this table (manage.py grant_app_role).
    append_only = True

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.CheckConstraint(condition=Q(sequence__gt=0), name="audit_event_sequence_positive"),
            models.CheckConstraint(
                condition=Q(action__regex=AUDIT_ACTION), name="audit_event_action_dotted_slug"
            ),
            models.CheckConstraint(
                condition=Q(hash__regex=r"^[0-9a-f]{64}$") & Q(previous_hash__regex=r"^[0-9a-f]{64}$"),
                name="audit_event_hashes_sha256_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.subject} by {self.actor}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditEventImmutable(f"audit event #{self.sequence} is append-only: it cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AuditEventImmutable(f"audit event #{self.sequence} is append-only: it cannot be deleted")

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_noop


class LineOfBusiness(models.TextChoices):
    """The insurance domains of InsuranceQA, which the line-of-business classifier learns."""

    AUTO = "auto", gettext_noop("auto insurance")
    HOME = "home", gettext_noop("home insurance")
    RENTERS = "renters", gettext_noop("renters insurance")
    LIFE = "life", gettext_noop("life insurance")
    HEALTH = "health", gettext_noop("health insurance")
    MEDICARE = "medicare", gettext_noop("Medicare insurance")
    DISABILITY = "disability", gettext_noop("disability insurance")
    LONG_TERM_CARE = "long_term_care", gettext_noop("long-term care insurance")
    CRITICAL_ILLNESS = "critical_illness", gettext_noop("critical illness insurance")
    ANNUITIES = "annuities", gettext_noop("annuities")
    RETIREMENT = "retirement", gettext_noop("retirement plans")
    OTHER = "other", gettext_noop("other insurance")


class Route(models.TextChoices):
    """Where a claim goes after triage."""

    FAST_TRACK = "fast_track", gettext_noop("fast track")
    STANDARD = "standard", gettext_noop("standard")
    SPECIALIST = "specialist", gettext_noop("specialist")
    SPECIAL_INVESTIGATION = "special_investigation", gettext_noop("special investigation")


class Policy(models.Model):
    number = models.CharField(max_length=32, unique=True)
    holder_name = models.CharField(max_length=200)
    line_of_business = models.CharField(max_length=32, choices=LineOfBusiness.choices)
    effective_from = models.DateField()
    effective_to = models.DateField()
    covered_perils = models.JSONField(default=list, blank=True, help_text="list of peril names")
    exclusions = models.JSONField(default=list, blank=True, help_text="list of excluded perils or causes")
    limit = models.DecimalField(max_digits=14, decimal_places=2, help_text="most paid per claim")
    deductible = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217 code")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__gt=F("effective_from")), name="policy_period_positive"
            ),
            models.CheckConstraint(condition=Q(limit__gt=0), name="policy_limit_positive"),
            models.CheckConstraint(
                condition=Q(deductible__gte=0) & Q(deductible__lt=F("limit")),
                name="policy_deductible_below_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_line_of_business_display()})"


class Claim(models.Model):
    """A claim as an integrating system submitted it; `status` is the ClaimResponse outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", gettext_noop("Queued")
        PROCESSING = "processing", gettext_noop("Processing")
        COMPLETE = "complete", gettext_noop("Complete")
        PARTIAL = "partial", gettext_noop("partial (a step could not run)")
        ERROR = "error", gettext_noop("Error")

    system = models.ForeignKey("integrations.System", on_delete=models.PROTECT, related_name="claims")
    external_id = models.CharField(max_length=100, help_text="the claim's id in the calling system")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="claims")
    loss_date = models.DateField()
    reported_date = models.DateField()
    amount_claimed = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, help_text="ISO 4217 code")
    description = models.TextField()
    attachments = models.JSONField(default=list, blank=True, help_text="name, content type and URL of each")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="times triage started")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["system", "external_id"], name="claim_external_id_unique"),
            models.CheckConstraint(condition=Q(amount_claimed__gt=0), name="claim_amount_positive"),
            models.CheckConstraint(
                condition=Q(reported_date__gte=F("loss_date")), name="claim_reported_after_loss"
            ),
        ]

    def __str__(self) -> str:
        return f"claim {self.pk} ({self.external_id})"


class Triage(models.Model):
    claim = models.OneToOneField(Claim, on_delete=models.CASCADE, related_name="triage")
    line_of_business = models.CharField(max_length=32, choices=LineOfBusiness.choices, blank=True)
    line_of_business_confidence = models.FloatField(null=True, blank=True)
    route = models.CharField(max_length=32, choices=Route.choices)
    model_route = models.CharField(
        max_length=32, choices=Route.choices, blank=True, help_text="the route model's own answer"
    )
    route_confidence = models.FloatField(null=True, blank=True)
    route_reasons = models.JSONField(default=list, help_text="why the route differs from the model's")
    fraud_score = models.FloatField(
        null=True, blank=True, help_text="0 to 1; empty when it could not be scored"
    )
    fraud_reasons = models.JSONField(default=list, help_text="each signal: code, text, contribution")
    abstained = models.BooleanField(default=False, help_text="a model was unsure: a person should look")
    model_versions = models.JSONField(default=dict, help_text="task -> model version id")
    steps = models.JSONField(default=dict, help_text="step -> 'ok' or why it could not run")
    timings_ms = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"triage of {self.claim}"


class ExtractedField(models.Model):
    class Kind(models.TextChoices):
        DATE = "date"
        AMOUNT = "amount"
        POLICY_NUMBER = "policy_number", "policy number"
        PARTY = "party"
        VEHICLE = "vehicle"
        PROPERTY = "property"
        INJURY = "injury"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="fields")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=300, help_text="normalised: ISO dates, amounts with currency")
    start = models.PositiveIntegerField(help_text="character offset in the description")
    end = models.PositiveIntegerField()
    text = models.CharField(max_length=300, help_text="the description's own words")

    class Meta:
        ordering = ["claim", "start"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class PolicyCheck(models.Model):
    claim = models.OneToOneField(Claim, on_delete=models.CASCADE, related_name="policy_check")
    passed = models.BooleanField()
    perils = models.JSONField(default=list, help_text="perils read in the description")
    findings = models.JSONField(default=list, help_text="each check: name, passed, reason, evidence")
    payable = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="claimed less deductible, up to the limit",
    )

    def __str__(self) -> str:
        return f"policy check of {self.claim}: {'passed' if self.passed else 'failed'}"


class ClaimReport(models.Model):
    claim = models.OneToOneField(Claim, on_delete=models.CASCADE, related_name="report")
    html = models.TextField()
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"report of {self.claim}"


# How a decision names the triage's fields it changed, for people to read.
CHANGED_FIELDS = {
    "line_of_business": gettext_noop("line of business"),
    "route": gettext_noop("route"),
    "fraud_suspected": gettext_noop("fraud suspected"),
}


class Decision(models.Model):
    """An adjuster's decision: the triage accepted or overridden. Overrides are training labels."""

    claim = models.OneToOneField(Claim, on_delete=models.CASCADE, related_name="decision")
    adjuster = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    line_of_business = models.CharField(max_length=32, choices=LineOfBusiness.choices)
    route = models.CharField(max_length=32, choices=Route.choices)
    fraud_suspected = models.BooleanField()
    overridden = models.JSONField(default=list, help_text="the triage's fields the adjuster changed")
    note = models.TextField(blank=True)
    decided_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"decision on {self.claim}"

    @property
    def accepted(self) -> bool:
        """Whether the triage's route was taken: an override always changes it."""
        return "route" not in self.overridden

    @property
    def changed(self) -> list[str]:
        return [CHANGED_FIELDS.get(name, name) for name in self.overridden]


class FraudCalibration(models.Model):
    """How the fraud text model and the structured red flags combine, fitted per text-model version."""

    model_version = models.OneToOneField(
        "training.ModelVersion", on_delete=models.CASCADE, related_name="fraud_calibration"
    )
    bias = models.FloatField()
    weights = models.JSONField(help_text="signal -> logistic-regression weight")
    metrics = models.JSONField(default=dict, help_text="ROC AUC on held-out generated claims")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"fraud calibration of model version {self.model_version_id}"

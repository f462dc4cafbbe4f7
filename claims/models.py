from django.db import models
from django.db.models import F, Q


class LineOfBusiness(models.TextChoices):
    """The insurance domains of InsuranceQA, which the line-of-business classifier learns."""

    AUTO = "auto", "auto insurance"
    HOME = "home", "home insurance"
    RENTERS = "renters", "renters insurance"
    LIFE = "life", "life insurance"
    HEALTH = "health", "health insurance"
    MEDICARE = "medicare", "Medicare insurance"
    DISABILITY = "disability", "disability insurance"
    LONG_TERM_CARE = "long_term_care", "long-term care insurance"
    CRITICAL_ILLNESS = "critical_illness", "critical illness insurance"
    ANNUITIES = "annuities", "annuities"
    RETIREMENT = "retirement", "retirement plans"
    OTHER = "other", "other insurance"


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

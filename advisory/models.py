from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class RiskTolerance(models.TextChoices):
    CONSERVATIVE = "conservative"
    MODERATE = "moderate"
    BALANCED = "balanced"
    GROWTH = "growth"
    AGGRESSIVE = "aggressive"


class IncomeBand(models.TextChoices):
    UNDER_50K = "under_50k", "under 50k"
    FROM_50K_TO_100K = "50k_100k", "50k to 100k"
    FROM_100K_TO_250K = "100k_250k", "100k to 250k"
    OVER_250K = "over_250k", "over 250k"


class Client(models.Model):
    """A client of one advisor; only that advisor reads or changes it."""

    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="clients")
    reference = models.CharField(max_length=32, unique=True, help_text="client number")
    full_name = models.CharField(max_length=200)
    birth_year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    income_band = models.CharField(max_length=16, choices=IncomeBand.choices)
    risk_tolerance = models.CharField(max_length=16, choices=RiskTolerance.choices)
    goals = models.TextField(blank=True)
    horizon_years = models.PositiveSmallIntegerField(help_text="investment horizon in years")
    restrictions = models.TextField(blank=True, help_text="e.g. exclusions the client asked for")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["full_name"]
        indexes = [models.Index(fields=["advisor", "full_name"])]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.reference})"

from django.db import models


class CustomerKind(models.TextChoices):
    INDIVIDUAL = "individual"
    BUSINESS = "business"


class RiskRating(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


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

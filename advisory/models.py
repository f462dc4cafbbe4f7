from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_noop
from pgvector.django import VectorField


class RiskTolerance(models.TextChoices):
    CONSERVATIVE = "conservative", gettext_noop("Conservative")
    MODERATE = "moderate", gettext_noop("Moderate")
    BALANCED = "balanced", gettext_noop("Balanced")
    GROWTH = "growth", gettext_noop("Growth")
    AGGRESSIVE = "aggressive", gettext_noop("Aggressive")


class IncomeBand(models.TextChoices):
    UNDER_50K = "under_50k", gettext_noop("under 50k")
    FROM_50K_TO_100K = "50k_100k", gettext_noop("50k to 100k")
    FROM_100K_TO_250K = "100k_250k", gettext_noop("100k to 250k")
    OVER_250K = "over_250k", gettext_noop("over 250k")


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


class Holding(models.Model):
    class AssetClass(models.TextChoices):
        EQUITY = "equity", gettext_noop("Equity")
        BOND = "bond", gettext_noop("Bond")
        CASH = "cash", gettext_noop("Cash")
        REAL_ESTATE = "real_estate", gettext_noop("real estate")
        COMMODITY = "commodity", gettext_noop("Commodity")
        ALTERNATIVE = "alternative", gettext_noop("Alternative")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="holdings")
    instrument = models.CharField(max_length=200)
    asset_class = models.CharField(max_length=16, choices=AssetClass.choices)
    value = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="EUR")
    account_number = models.CharField(
        max_length=34, blank=True, help_text="an identifier: masked in logs and prompts"
    )

    class Meta:
        ordering = ["-value"]

    def __str__(self) -> str:
        return f"{self.instrument}: {self.value} {self.currency}"


class Letter(models.Model):
    """Free text from or about the client; embedded so a question retrieves the letters it needs."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="letters")
    written_on = models.DateField()
    author = models.CharField(max_length=100, help_text="who wrote it: the client, the advisor, ...")
    text = models.TextField()
    embedding = VectorField(dimensions=384, null=True, editable=False)
    embedding_model = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["-written_on", "-pk"]

    def __str__(self) -> str:
        return f"letter of {self.written_on} ({self.author})"


class Keyword(models.Model):
    """A keyword extracted from a letter, with the span of text it came from."""

    class Category(models.TextChoices):
        ASSET = "asset", gettext_noop("Asset")
        GOAL = "goal", gettext_noop("Goal")
        RISK = "risk", gettext_noop("risk tolerance")
        HORIZON = "horizon", gettext_noop("time horizon")
        LIFE_EVENT = "life_event", gettext_noop("life event")

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="keywords")
    category = models.CharField(max_length=16, choices=Category.choices)
    phrase = models.CharField(max_length=200)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    score = models.FloatField()

    class Meta:
        ordering = ["category", "-score"]

    def __str__(self) -> str:
        return f"{self.category}: {self.phrase}"


class Answer(models.Model):
    """A question an advisor asked and everything needed to audit its answer."""

    class Scope(models.TextChoices):
        CLIENT = "client", gettext_noop("this client")
        KNOWLEDGE = "knowledge", gettext_noop("products and research")
        BOTH = "both", gettext_noop("client and knowledge")

    class Status(models.TextChoices):
        ANSWERING = "answering"
        COMPLETE = "complete"
        FAILED = "failed"

    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="answers")
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.CASCADE, related_name="answers"
    )
    scope = models.CharField(max_length=10, choices=Scope.choices)
    collections = models.JSONField(default=list, blank=True)
    question = models.TextField()
    text = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ANSWERING)
    error = models.TextField(blank=True)
    backend = models.CharField(max_length=20)
    model_name = models.CharField(max_length=200)
    fields_used = models.JSONField(
        default=list, blank=True, help_text="the client fields sent to the answer backend"
    )
    timings_ms = models.JSONField(default=dict, blank=True)
    ungrounded = models.JSONField(
        default=list,
        blank=True,
        help_text="what the cited text does not bear out, each with start, end, text and reason: numbers "
        "it does not hold, citations of passages about another subject than the question's",
    )
    rating = models.SmallIntegerField(null=True, blank=True, choices=[(1, "helpful"), (-1, "not helpful")])
    feedback = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["advisor", "-created_at"])]

    def __str__(self) -> str:
        return self.question[:80]


class Citation(models.Model):
    """A passage an answer was given, as it read then (chunks are replaced by new versions)."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="citations")
    number = models.PositiveSmallIntegerField()
    document = models.ForeignKey(
        "knowledge.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    letter = models.ForeignKey(Letter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    chunk_id = models.BigIntegerField(null=True, blank=True)
    collection = models.CharField(max_length=100, blank=True)
    external_id = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=500)
    version = models.PositiveIntegerField(null=True, blank=True)
    page = models.PositiveIntegerField(null=True, blank=True)
    heading = models.TextField(blank=True)
    text = models.TextField()
    score = models.FloatField()
    similarity = models.FloatField(null=True, blank=True)
    cited = models.BooleanField(default=False, help_text="the answer refers to it")

    class Meta:
        ordering = ["answer", "number"]
        constraints = [models.UniqueConstraint(fields=["answer", "number"], name="citation_number_unique")]

    def __str__(self) -> str:
        return f"[{self.number}] {self.title}"

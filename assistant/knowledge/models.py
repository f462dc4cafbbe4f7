from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, Q, When
from pgvector.django import HnswIndex, VectorField

from assistant.core.encoder import languages
from assistant.core.language import Language as LanguageCode

EMBEDDING_DIMENSIONS = 384
MAX_RERANK_DEPTH = 100
# The most passages a cross-encoder reads for one search while an advisory answer's retrieval stays
# within its p95 budget on two CPU cores (docs/retrieval.md, "A reranker's cost").
RERANK_DEPTH = 3
SEARCH_CONFIG = "english"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    CHINESE = "zh", "Chinese"


class Collection(models.Model):
    """A set of documents read by the same people, embedded with one model (or two: one for
    English questions, one for other languages)."""

    name = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    reader_groups = models.ManyToManyField(Group, blank=True, related_name="readable_collections")
    reader_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="readable_collections"
    )
    embedding_model = models.CharField(
        max_length=300, help_text="the model every chunk of this collection is embedded with"
    )
    embedding_version = models.ForeignKey(
        "training.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the version of a retrieval task whose tuned model embeds it; empty: a stock model",
    )
    reranker_version = models.ForeignKey(
        "training.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the version of a reranking task that reorders its search results; empty: none",
    )
    rerank_depth = models.PositiveSmallIntegerField(
        default=RERANK_DEPTH,
        db_default=RERANK_DEPTH,  # rows written without the column (a rolling deploy, a raw insert)
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RERANK_DEPTH)],
        help_text="how many of the fused results a reranker version reorders, when one is active",
    )
    second_embedding_model = models.CharField(
        max_length=300,
        blank=True,
        default="",
        # Rows written by a version without the column (a rolling deploy, a raw insert) get none.
        db_default="",
        help_text="a model that embeds every chunk as well, for questions in a language the first "
        "does not read; empty: none",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("read_all_collections", "Can search every collection")]

    def __str__(self) -> str:
        return self.name

    @property
    def languages(self) -> tuple[LanguageCode, ...]:
        """The languages its questions can be asked in: those either of its models reads."""
        return languages(self.embedding_model, self.second_embedding_model)


class DocumentStatus(models.TextChoices):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Document(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="documents")
    external_id = models.CharField(
        max_length=300, help_text="the source system's id, unique in the collection"
    )
    title = models.CharField(max_length=500)
    source = models.CharField(max_length=1000, blank=True, help_text="file name or address it came from")
    file = models.FileField(upload_to="knowledge/%Y/%m/", blank=True, max_length=500)
    content = models.JSONField(
        default=list,
        blank=True,
        help_text="the parsed text: blocks of {text, heading, page}; re-indexing starts from it",
    )
    version = models.PositiveIntegerField(default=1)
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the title and content")
    status = models.CharField(max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    error = models.TextField(blank=True)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.ENGLISH, help_text="detected when indexed"
    )
    indexed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["collection", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "external_id"], name="document_unique_external_id"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=F("effective_from")),
                name="document_effective_period_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["status"]),
            GinIndex(fields=["metadata"], name="document_metadata_gin"),
        ]

    def __str__(self) -> str:
        return f"{self.collection.name}/{self.external_id} v{self.version}"


class UploadStatus(models.TextChoices):
    QUEUED = "queued"
    PARSING = "parsing"
    DONE = "done"
    REJECTED = "rejected"
    FAILED = "failed"


class Upload(models.Model):
    """A file received for a collection, kept until an ingest worker has parsed it.

    Once parsed, a file of one document becomes that document's file and one of several (a FAQ)
    is deleted; a rejected file is deleted and its reason kept here.
    """

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="uploads")
    replaces = models.ForeignKey(
        Document,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="the document this file is a new version of",
    )
    name = models.CharField(max_length=300)
    file = models.FileField(upload_to="uploads/%Y/%m/", blank=True, max_length=500)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    metadata = models.JSONField(default=dict, blank=True)
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=UploadStatus.choices, default=UploadStatus.QUEUED)
    reason = models.TextField(blank=True, help_text="why the file was rejected or failed")
    documents = models.PositiveIntegerField(default=0, help_text="documents submitted from the file")
    created_at = models.DateTimeField(auto_now_add=True)
    progressed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "progressed_at"])]

    def __str__(self) -> str:
        return f"{self.collection.name}/{self.name} ({self.status})"


def _graph(field: str) -> HnswIndex:
    """The HNSW index of a vector column. ef_construction 128 rather than 64: a better-connected
    graph keeps filtered recall up, at twice the build time (docs/retrieval.md, Index builds)."""
    return HnswIndex(
        name=f"chunk_{field}_hnsw", fields=[field], m=16, ef_construction=128, opclasses=["vector_cosine_ops"]
    )


class Chunk(models.Model):
    """A passage of one document version, embedded and indexed for full-text search.

    The table is partitioned by collection (see `partitions`): each collection has its own
    HNSW graph, so a search within some collections scans only theirs, exactly as an
    unfiltered search would. The effective period repeats the document's so that every
    other filter is a condition on this table, evaluated inside the index scan.
    """

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    heading = models.CharField(max_length=1000, blank=True, help_text="title > section > subsection")
    page = models.PositiveIntegerField(null=True, blank=True, help_text="zero-based page of a paged source")
    text = models.TextField()
    token_count = models.PositiveIntegerField()
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    embedding_model = models.CharField(max_length=300)
    # The collection's second model's vector, where it has one (see Collection).
    second_embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    second_embedding_model = models.CharField(max_length=300, blank=True, db_default="")
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    words = models.TextField(
        blank=True,
        db_default="",
        help_text="the heading and text with a space between words, for full-text search, where they "
        "hold Chinese (written without spaces); empty otherwise",
    )
    search_vector = models.GeneratedField(
        expression=Case(
            When(
                words="",
                then=SearchVector("heading", weight="A", config=SEARCH_CONFIG)
                + SearchVector("text", weight="D", config=SEARCH_CONFIG),
            ),
            default=SearchVector("words", weight="D", config=SEARCH_CONFIG),
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["document", "position"]
        constraints = [
            # A unique index on a partitioned table must include the partition key.
            models.UniqueConstraint(
                fields=["collection", "document", "position"], name="chunk_unique_position"
            ),
        ]
        indexes = [
            _graph("embedding"),
            _graph("second_embedding"),
            GinIndex(fields=["search_vector"], name="chunk_search_vector_gin"),
        ]

    def __str__(self) -> str:
        return f"{self.document} #{self.position}"


class Lexeme(models.Model):
    """How many chunks of a collection hold a word (stemmed): full text matches on rare words.

    Counted per collection, because a search's budget is about the chunks it can match: the
    collections it searches. Rebuilt by `lexicon_refresh`; a word not counted yet is rare.
    """

    # No index of its own: the unique (collection, lexeme) index serves both the deletes by
    # collection and the search's lookups by word. Beside it, a planner without statistics
    # took the collection index and filtered every word of the collection.
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="+", db_index=False)
    lexeme = models.TextField()
    chunks = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "lexeme"], name="lexeme_unique_per_collection"),
        ]

    def __str__(self) -> str:
        return self.lexeme


class LexiconState(models.Model):
    """When a collection's word counts were last rebuilt, from which chunks, of how many tokens."""

    collection = models.OneToOneField(Collection, on_delete=models.CASCADE, related_name="+")
    chunks = models.PositiveIntegerField(default=0)
    tokens = models.BigIntegerField(default=0)
    last_chunk_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"lexicon of {self.collection_id}: {self.chunks} chunks, rebuilt {self.refreshed_at}"

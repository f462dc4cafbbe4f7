from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.errors import ApplicationError
from assistant.knowledge.datasets import DATASETS
from assistant.knowledge.management.cli import index_submissions
from assistant.knowledge.services.submission import collection_get_or_create, document_submit


class Command(BaseCommand):
    help = "Load a public dataset from FINASSIST_DATASETS_DIR into its collection and index it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", choices=sorted(DATASETS))
        parser.add_argument("--limit", type=int, help="only the first N documents (for a quick look)")
        parser.add_argument(
            "--reader-group", action="append", default=[], help="group that may read a new collection"
        )
        parser.add_argument("--collection", help="the collection to load into (default: the dataset's own)")
        parser.add_argument(
            "--embedding-model",
            default="",
            help="the model a new collection is embedded with (default: FINASSIST_EMBEDDING_MODEL; "
            "multilingual-e5-small reads Chinese questions)",
        )
        parser.add_argument(
            "--second-embedding-model",
            default="",
            help="a model a new collection is embedded with as well, for questions in a language the "
            "first does not read (multilingual-e5-small beside MiniLM: Chinese questions)",
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="leave the indexing to the ingest worker and return at once (progress in the admin)",
        )
        parser.add_argument(
            "--if-present",
            action="store_true",
            help="say so and stop, instead of failing, when the datasets folder lacks the dataset",
        )

    def handle(
        self,
        *args: Any,
        name: str,
        limit: int | None,
        reader_group: list[str],
        if_present: bool,
        queue: bool,
        collection: str | None,
        embedding_model: str,
        second_embedding_model: str,
        **options: Any,
    ) -> None:
        dataset = DATASETS[name]
        queue = queue and not settings.CELERY_TASK_ALWAYS_EAGER  # no worker: indexed here instead
        try:
            folder = dataset.path()
        except ApplicationError as exc:
            if if_present:
                self.stdout.write(f"{exc.message}: not loaded")
                return
            raise CommandError(str(exc)) from exc
        try:
            target = collection_get_or_create(
                name=collection or dataset.collection,
                description=dataset.description,
                reader_groups=reader_group,
                embedding_model=embedding_model,
                second_embedding_model=second_embedding_model,
            )
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        submissions = []
        for number, parsed in enumerate(dataset.load(folder)):
            if limit is not None and number >= limit:
                break
            submissions.append(
                document_submit(
                    collection=target,
                    parsed=parsed,
                    source=f"{name}:{parsed.external_id}",
                    effective_from=dataset.effective_from(parsed),
                    enqueue=queue,
                )
            )
        self.stdout.write(f"{name}: {len(submissions)} document(s) into collection {target.name}")
        if queue:
            changed = sum(submission.changed for submission in submissions)
            self.stdout.write(f"{changed} document(s) queued for the ingest worker, the rest unchanged")
            return
        index_submissions(self, submissions)

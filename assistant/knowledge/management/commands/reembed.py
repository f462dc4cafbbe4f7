from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.errors import ApplicationError
from assistant.knowledge.management.cli import progress_bars
from assistant.knowledge.models import Collection
from assistant.knowledge.services.reembedding import collection_reembed


class Command(BaseCommand):
    help = (
        "Move a collection to another embedding model. Searches keep using the old vectors "
        "until all new ones are ready, then switch in one transaction."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--collection", required=True)
        parser.add_argument("--model", required=True, help="all-MiniLM-L6-v2 or a local model directory")

    def handle(self, *args: Any, collection: str, model: str, **options: Any) -> None:
        try:
            target = Collection.objects.get(name=collection)
        except Collection.DoesNotExist:
            raise CommandError(f"no collection named {collection!r}") from None
        with progress_bars(self) as progress:
            try:
                report = collection_reembed(collection=target, model_name=model, on_progress=progress)
            except ApplicationError as exc:
                raise CommandError(str(exc)) from exc
        moved = f"{report.chunks} chunk(s) moved from {report.previous_model} to {report.model}"
        self.stdout.write(f"{report.collection}: {moved}")

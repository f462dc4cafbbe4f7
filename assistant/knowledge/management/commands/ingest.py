from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.knowledge.management.cli import index_submissions
from assistant.knowledge.parsers import PARSERS
from assistant.knowledge.services.submission import collection_get_or_create, files_submit


def _files(paths: list[str]) -> list[tuple[Path, str]]:
    """(file, name) pairs; a folder contributes its supported files, named relative to it."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += [
                (file, str(file.relative_to(path)))
                for file in sorted(path.rglob("*"))
                if file.is_file() and file.suffix.lower() in PARSERS
            ]
        elif path.is_file():
            found.append((path, path.name))
        else:
            raise CommandError(f"{raw}: no such file or folder")
    return found


class Command(BaseCommand):
    help = "Ingest files and folders into a collection (created if missing), indexing them here."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--collection", required=True, help="collection name (a slug)")
        parser.add_argument(
            "--reader-group", action="append", default=[], help="group that may read a new collection"
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="hand indexing to the ingest workers instead of doing it here",
        )

    def handle(
        self,
        *args: Any,
        paths: list[str],
        collection: str,
        reader_group: list[str],
        queue: bool,
        **options: Any,
    ) -> None:
        files = _files(paths)
        if not files:
            raise CommandError("no supported files found")
        target = collection_get_or_create(name=collection, reader_groups=reader_group)
        report = files_submit(
            collection=target, files=((name, file.read_bytes()) for file, name in files), enqueue=queue
        )
        for rejected in report.rejected:
            self.stderr.write(f"rejected {rejected}")
        self.stdout.write(
            f"{len(report.submitted)} document(s) from {len(files) - len(report.rejected)} file(s)"
        )
        if queue:
            queued = sum(submission.changed for submission in report.submitted)
            self.stdout.write(f"{queued} document(s) queued for the ingest workers")
        else:
            index_submissions(self, report.submitted)
        if report.rejected:
            raise CommandError(f"{len(report.rejected)} file(s) rejected; the others went in")

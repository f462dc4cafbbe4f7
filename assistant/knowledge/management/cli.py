"""What the knowledge commands share: index in-process under a progress bar, then report."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from assistant.knowledge.services.indexing import IndexReport, Progress, documents_index
from assistant.knowledge.services.lexicon import lexicon_refresh
from assistant.knowledge.services.submission import Submission


@contextmanager
def progress_bar(command: BaseCommand, description: str) -> Iterator[Progress]:
    """A chunk-counting progress bar on the command's standard error."""
    with tqdm(total=0, unit="chunk", desc=description, file=command.stderr._out) as bar:

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield update


def index_submissions(command: BaseCommand, submissions: Sequence[Submission]) -> IndexReport:
    changed = [submission.document.pk for submission in submissions if submission.changed]
    unchanged = len(submissions) - len(changed)
    if unchanged:
        command.stdout.write(f"{unchanged} document(s) unchanged (same checksum): nothing to do")
    if not changed:
        return IndexReport()
    with progress_bar(command, "embedding") as progress:
        report = documents_index(changed, on_progress=progress)
    lexicon_refresh()
    command.stdout.write(f"indexed {report.indexed} document(s), {report.chunks} chunk(s)")
    for name, reason in report.failed.items():
        command.stderr.write(f"failed: {name}: {reason}")
    if report.failed:
        raise CommandError(f"{len(report.failed)} document(s) failed to index")
    return report

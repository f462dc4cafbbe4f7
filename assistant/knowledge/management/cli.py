"""What the knowledge commands share: index in-process under a progress bar, then report."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from assistant.knowledge.services.indexing import CHUNKING, EMBEDDING, IndexReport, Progress, documents_index
from assistant.knowledge.services.lexicon import lexicon_refresh
from assistant.knowledge.services.submission import Submission

UNITS = {CHUNKING: "document", EMBEDDING: "chunk"}


@contextmanager
def progress_bars(command: BaseCommand) -> Iterator[Progress]:
    """A progress bar on the command's standard error for each stage as it starts, with its
    total from the first report; log lines print above the bars instead of through them."""
    bars: dict[str, tqdm[None]] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            for finished in bars.values():
                finished.close()
            bar = bars[stage] = tqdm(total=total, unit=UNITS[stage], desc=stage, file=command.stderr._out)
        bar.total = total
        bar.update(done - bar.n)

    with logging_redirect_tqdm(loggers=[logging.getLogger("finassist")]):
        try:
            yield update
        finally:
            for bar in bars.values():
                bar.close()


def index_submissions(command: BaseCommand, submissions: Sequence[Submission]) -> IndexReport:
    changed = [submission.document.pk for submission in submissions if submission.changed]
    unchanged = len(submissions) - len(changed)
    if unchanged:
        command.stdout.write(f"{unchanged} document(s) unchanged (same checksum): nothing to do")
    if not changed:
        return IndexReport()
    with progress_bars(command) as progress:
        report = documents_index(changed, on_progress=progress)
    lexicon_refresh()
    command.stdout.write(f"indexed {report.indexed} document(s), {report.chunks} chunk(s)")
    for name, reason in report.failed.items():
        command.stderr.write(f"failed: {name}: {reason}")
    if report.failed:
        raise CommandError(f"{len(report.failed)} document(s) failed to index")
    return report

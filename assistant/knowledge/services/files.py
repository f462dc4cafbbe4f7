"""Stored files that follow their rows: written in a transaction, deleted if it fails; replaced or
rejected, deleted once the change commits. The media folder keeps no file that no row names."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction

logger = logging.getLogger("finassist.knowledge")


def file_delete(name: str) -> None:
    try:
        default_storage.delete(name)
    except OSError:
        logger.exception("could not delete the stored file %s", name)


def file_delete_on_commit(name: str) -> None:
    transaction.on_commit(lambda: file_delete(name))


def on_file_row_deleted(sender: type[Any], instance: Any, **kwargs: Any) -> None:
    """post_delete: a deleted document's or upload's file goes once the deletion commits."""
    if instance.file.name:
        file_delete_on_commit(instance.file.name)


@contextmanager
def files_deleted_on_error() -> Iterator[list[str]]:
    """A list to name the files written inside; they are deleted again if the block raises (around
    a transaction: the rows that would name them rolled back)."""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        for name in written:
            file_delete(name)
        raise

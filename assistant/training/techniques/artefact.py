"""A version's artefact on disk: a folder whose manifest names its technique, and its checksum.

Every technique writes `finassist-model.json` (format version, method, labels, abstain threshold,
drift reference and what the technique needs) last, beside its own files. The checksum covers
every file; loading refuses a folder whose checksum or format version is not the one registered.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from assistant.core.errors import ApplicationError

FORMAT_VERSION = 1
MANIFEST = "finassist-model.json"


class ArtefactError(ApplicationError):
    status = 503  # the model cannot be served until an engineer repairs or replaces it


def checksum(folder: Path) -> str:
    """SHA-256 over every file's relative path and content, in a fixed order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def manifest_write(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(json.dumps({"format_version": FORMAT_VERSION, **manifest}, indent=2))


def artefact_verify(folder: Path, *, expected_checksum: str) -> dict[str, Any]:
    """The artefact's manifest, once its files match the registered checksum and its format is ours."""
    if not (folder / MANIFEST).is_file():
        raise ArtefactError(f"model artefact {folder} is missing or incomplete")
    found = checksum(folder)
    if found != expected_checksum:
        raise ArtefactError(
            f"model artefact {folder} does not match its registered checksum "
            f"({found[:12]}... != {expected_checksum[:12]}...); refusing to load it"
        )
    manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtefactError(
            f"model artefact {folder} has format version {manifest.get('format_version')}; "
            f"this code reads version {FORMAT_VERSION}"
        )
    return manifest

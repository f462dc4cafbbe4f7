"""Labelled examples: reading them from files, splitting them, and naming a dataset by its hash."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.core.errors import ApplicationError
from assistant.training.registry import Example

# Shares of every dataset held out from training, by a hash of the text (so a text is in the
# same split whatever the order or size of the file, and duplicates never straddle splits).
CALIBRATION_SHARE = 0.05  # chooses the abstain threshold
VALIDATION_SHARE = 0.10  # every reported metric, and comparisons between versions


class DataError(ApplicationError):
    pass


def examples_read(
    path: Path,
    *,
    text_column: str,
    label_column: str,
    labels: Sequence[str] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> list[Example]:
    """Examples from a CSV (with a header) or JSONL file; any bad row refuses the whole file.

    With `labels`, every example's label must be one of them, or a dataset's own name that
    `aliases` maps to one."""
    if not path.is_file():
        raise DataError(f"{path}: no such file", field="data")
    with path.open("rb") as handle:
        return examples_parse(
            path.name, handle.read(), text_column=text_column, label_column=label_column, labels=labels,
            aliases=aliases,
        )  # fmt: skip


def examples_parse(
    name: str,
    content: bytes,
    *,
    text_column: str,
    label_column: str,
    labels: Sequence[str] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> list[Example]:
    """`examples_read` for a file's name and bytes (an upload)."""
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise DataError(
            f"{name}: unsupported file type {suffix or '(none)'}; use .csv or .jsonl", field="data"
        )
    try:
        rows = _rows(io.StringIO(content.decode("utf-8-sig"), newline=""), suffix)
        examples = [_example(row, number, text_column, label_column) for number, row in rows]
    except UnicodeDecodeError as error:
        raise DataError(
            f"{name}: not UTF-8 text ({error.reason} at byte {error.start})", field="data"
        ) from None
    except (json.JSONDecodeError, csv.Error) as error:
        raise DataError(f"{name}: cannot be read ({error})", field="data") from error
    except DataError as error:
        raise DataError(f"{name}: {error.message}", field="data") from None
    if not examples:
        raise DataError(f"{name}: no examples", field="data")
    if aliases:
        examples = [Example(e.text, aliases.get(e.label, e.label)) for e in examples]
    if labels is not None:
        known = set(labels)
        for number, example in enumerate(examples, start=1):
            if example.label not in known:
                raise DataError(
                    f"{name}: example {number} has label {example.label!r}, which the task does not have",
                    field="data",
                )
    return examples


def _rows(handle: io.StringIO, suffix: str) -> list[tuple[int, dict[str, object]]]:
    if suffix == ".csv":
        reader = csv.DictReader(handle)
        return [(reader.line_num, row) for row in reader]
    rows = []
    for number, line in enumerate(handle, start=1):
        if line.strip():
            row = json.loads(line)
            if not isinstance(row, dict):
                raise DataError(f"line {number} is not a JSON object")
            rows.append((number, row))
    return rows


def _example(row: dict[str, object], number: int, text_column: str, label_column: str) -> Example:
    for column in (text_column, label_column):
        if column not in row:
            raise DataError(f"line {number} has no column {column!r} (it has {', '.join(map(str, row))})")
    text, label = str(row[text_column] or "").strip(), str(row[label_column] or "").strip()
    if not text or not label:
        raise DataError(f"line {number} has an empty {text_column if not text else label_column!r}")
    return Example(text, label)


def _position(text: str, salt: str = "") -> float:
    """Where a text falls in [0, 1): the same for the same text, whatever its case or spacing."""
    return int.from_bytes(hashlib.sha256((salt + text.strip().lower()).encode()).digest()[:4], "big") / 2**32


def split_of(text: str) -> str:
    value = _position(text)
    if value < CALIBRATION_SHARE:
        return "calibration"
    if value < CALIBRATION_SHARE + VALIDATION_SHARE:
        return "validation"
    return "train"


@dataclass(frozen=True)
class Splits:
    train: list[Example]
    calibration: list[Example]
    validation: list[Example]
    # Reserved by a study from the training examples, and scored once at its end.
    test: list[Example] = field(default_factory=list)

    @classmethod
    def of(cls, examples: Sequence[Example]) -> Splits:
        parts: dict[str, list[Example]] = {"train": [], "calibration": [], "validation": []}
        for example in examples:
            parts[split_of(example.text)].append(example)
        splits = cls(**parts)
        for name, part in parts.items():
            if not part:
                raise DataError(
                    f"{len(examples)} examples leave the {name} split empty; a task needs more examples",
                    field="data",
                )
        return splits

    def sizes(self) -> dict[str, int]:
        sizes = {
            "train": len(self.train),
            "calibration": len(self.calibration),
            "validation": len(self.validation),
        }
        return {**sizes, "test": len(self.test)} if self.test else sizes

    def narrowed(self, narrowing: Narrowing) -> Splits:
        """The training examples a study fits on; calibration and validation stay as they are.

        The test share is reserved first, by a second hash of the text, so every technique and
        every narrowing of one study leaves out the same test examples. Then, in a sample seeded
        by `narrowing.seed` (the same examples for every technique): at most `per_label` examples
        of each label, and only `held_out_keep` of the held-out label's.
        """
        train: list[Example] = []
        test: list[Example] = []
        for example in self.train:
            reserved = _position(example.text, salt="test:") < narrowing.test_share
            (test if reserved else train).append(example)
        by_label: dict[str, list[Example]] = defaultdict(list)
        for example in train:
            by_label[example.label].append(example)
        kept: list[Example] = []
        for label, examples in sorted(by_label.items()):
            limit = narrowing.per_label or len(examples)
            if label == narrowing.held_out_label:
                limit = min(limit, narrowing.held_out_keep)
            ordered = sorted(examples, key=lambda e: e.text)
            kept += random.Random(f"{narrowing.seed}:{label}").sample(ordered, min(limit, len(ordered)))
        return replace(self, train=kept, test=test)


@dataclass(frozen=True)
class Narrowing:
    """What a study leaves out of a training split (see `Splits.narrowed`); the default: nothing."""

    test_share: float = 0.0
    per_label: int = 0
    held_out_label: str = ""
    held_out_keep: int = 0
    seed: int = 42

    def __bool__(self) -> bool:
        return bool(self.test_share or self.per_label or self.held_out_label)


def dataset_hash(examples: Sequence[Example]) -> str:
    """The same examples in any order give the same hash."""
    digest = hashlib.sha256()
    for line in sorted(f"{example.label}\t{example.text}\n" for example in examples):
        digest.update(line.encode())
    return digest.hexdigest()

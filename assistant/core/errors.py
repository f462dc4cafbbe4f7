import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import ParamSpec

P = ParamSpec("P")


class ApplicationError(Exception):
    """A request the application refuses, with a message meant for the person who made it.

    `field` names the input at fault, when there is one; `status` is the HTTP answer, and
    `retry_after_s`, for a refusal that passes by itself, when to ask again (`Retry-After`).
    """

    status = 400
    retry_after_s: int | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class FieldErrors(ApplicationError):
    """Several refusals at once: `errors` maps each field (or item, for a batch) to its messages."""

    def __init__(self, errors: Mapping[str, object], *, status: int = 400) -> None:
        super().__init__("; ".join(f"{field}: {messages}" for field, messages in errors.items()))
        self.errors = dict(errors)
        self.status = status


@dataclass
class ItemErrors:
    """The refusals of one call's items, gathered so that one FieldErrors reports them all: keyed by
    item index under `items` for a batch, by field for a single item; 409 when one of them is a
    conflict with what is stored, else 400."""

    items: str
    batch: bool
    errors: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    conflict: bool = False

    def add(self, index: int, name: str, message: str, *, conflict: bool = False) -> None:
        self.errors.setdefault(index, {}).setdefault(name, []).append(message)
        self.conflict = self.conflict or conflict

    def raise_any(self) -> None:
        if not self.errors:
            return
        by_index = {str(index): self.errors[index] for index in sorted(self.errors)}
        raise FieldErrors(
            {self.items: by_index} if self.batch else by_index["0"], status=409 if self.conflict else 400
        )


class Conflict(ApplicationError):
    """A request that clashes with what is stored (the same external id submitted twice)."""

    status = 409


class NotFound(ApplicationError):
    """What the caller may not see is reported exactly like what does not exist."""

    status = 404


def missing_skipped(task: Callable[P, str]) -> Callable[P, str]:
    """For a task on one row: a row deleted since the task was queued (NotFound) is logged and the
    task returns "missing"; nothing failed, so nothing is retried or reported as an error."""

    @wraps(task)
    def run(*args: P.args, **kwargs: P.kwargs) -> str:
        try:
            return task(*args, **kwargs)
        except NotFound as missing:
            logging.getLogger("finassist.tasks").warning("%s: %s", task.__name__, missing.message)
            return "missing"

    return run


def text_checked(value: object, *, field: str, noun: str, limit: int) -> str:
    """Text a person typed, whitespace normalised, once it is text, not empty and within `limit`."""
    if not isinstance(value, str):
        raise ApplicationError(f"the {noun} must be text", field=field)
    text = " ".join(value.split())
    if not text:
        raise ApplicationError(f"the {noun} is empty", field=field)
    if len(text) > limit:
        raise ApplicationError(f"the {noun} is {len(text)} characters; the limit is {limit}", field=field)
    return text

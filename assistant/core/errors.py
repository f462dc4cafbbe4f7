class ApplicationError(Exception):
    """A request the application refuses, with a message meant for the person who made it.

    `field` names the input at fault, when there is one; `status` is the HTTP answer.
    """

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class FieldErrors(ApplicationError):
    """Several refusals at once: `errors` maps each field (or item, for a batch) to its messages."""

    def __init__(self, errors: dict[str, object], *, status: int = 400) -> None:
        super().__init__("; ".join(f"{field}: {messages}" for field, messages in errors.items()))
        self.errors = errors
        self.status = status


class NotFound(ApplicationError):
    """What the caller may not see is reported exactly like what does not exist."""

    status = 404


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

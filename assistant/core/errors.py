class ApplicationError(Exception):
    """A request the application refuses, with a message meant for the person who made it.

    `field` names the input at fault, when there is one; `status` is the HTTP answer.
    """

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

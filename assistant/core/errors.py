class ApplicationError(Exception):
    """A request the application refuses, with a message meant for the person who made it."""

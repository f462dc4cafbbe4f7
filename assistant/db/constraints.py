from django.db import IntegrityError


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint PostgreSQL reports an IntegrityError violated, when it names one."""
    return getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)

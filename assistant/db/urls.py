from typing import Any
from urllib.parse import quote

from assistant.db.embedded import SUPERUSER, EmbeddedPostgres


def database_url(database: dict[str, Any], *, name: str | None = None) -> str:
    """A libpq URL for a DATABASES entry (embedded or not), optionally to another database."""
    name = name or database["NAME"]
    if "EMBEDDED_DATA_DIR" in database:
        socket_dir = EmbeddedPostgres.from_settings(database).ensure_running()
        return f"postgresql://{SUPERUSER}@/{name}?host={quote(str(socket_dir))}"
    login = f"{quote(database['USER'])}:{quote(database['PASSWORD'])}"
    host, port = database["HOST"], database["PORT"]
    if host.startswith("/"):
        return f"postgresql://{login}@/{name}?host={quote(host)}" + (f"&port={port}" if port else "")
    return f"postgresql://{login}@{host}:{port or 5432}/{name}"

"""PostgreSQL backend that starts the embedded server on demand.

Selected by settings when DATABASE_URL is unset. Every new connection first makes sure
the server for `EMBEDDED_DATA_DIR` runs (a read of `postmaster.pid` when it does), so
any command, worker or test that touches the database starts it, and none needs to
know whether another already has.
"""

from collections.abc import Iterable
from typing import Any

from django.db.backends.postgresql import base, client

from assistant.db.embedded import SUPERUSER, EmbeddedPostgres, binary


class DatabaseClient(client.DatabaseClient):
    @classmethod
    def settings_to_cmd_args_env(
        cls, settings_dict: dict[str, Any], parameters: Iterable[str]
    ) -> tuple[list[str], dict[str, str] | None]:
        socket_dir = EmbeddedPostgres.from_settings(settings_dict).ensure_running()
        embedded = {**settings_dict, "HOST": str(socket_dir), "USER": SUPERUSER, "PORT": ""}
        args, env = super().settings_to_cmd_args_env(embedded, parameters)
        return [str(binary("psql")), *args[1:]], env


class DatabaseWrapper(base.DatabaseWrapper):
    client_class = DatabaseClient

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        params["host"] = str(EmbeddedPostgres.from_settings(self.settings_dict).ensure_running())
        params["user"] = SUPERUSER
        params.pop("port", None)
        return params

#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    from assistant.env import ConfigurationError

    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads and validates the settings now
    except ConfigurationError as exc:
        sys.stderr.write(f"finassist: {exc}\n")
        sys.exit(2)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

"""The plaintext tokens of DRF's authtoken become hashed personal tokens (the same text still
works: found by its first 8 characters), and the plaintext is deleted."""

import hashlib
from typing import Any

from django.db import migrations


def hashed(apps: Any, schema_editor: Any) -> None:
    Token = apps.get_model("authtoken", "Token")
    PersonalToken = apps.get_model("integrations", "PersonalToken")
    for token in Token.objects.all():
        PersonalToken.objects.create(
            user_id=token.user_id,
            prefix=token.key[:8],
            secret_hash=hashlib.sha256(token.key.encode()).hexdigest(),
        )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_personal_tokens"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(hashed, migrations.RunPython.noop)]

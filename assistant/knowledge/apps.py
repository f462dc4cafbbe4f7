from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "assistant.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_save, pre_delete

        from assistant.core import roles
        from assistant.knowledge import (
            demo,  # noqa: F401 - registers the demo knowledge loader
            partitions,
        )
        from assistant.knowledge.models import Collection
        from assistant.knowledge.search import configure_connection

        connection_created.connect(configure_connection, dispatch_uid="finassist.knowledge.search")
        post_save.connect(
            partitions.on_collection_saved, sender=Collection, dispatch_uid="finassist.partition"
        )
        pre_delete.connect(
            partitions.on_collection_deleting, sender=Collection, dispatch_uid="finassist.partition"
        )

        roles.role_grant(
            roles.KNOWLEDGE_MANAGER,
            *(
                f"knowledge.{action}_{model}"
                for action in ("view", "add", "change", "delete")
                for model in ("collection", "document")
            ),
            "knowledge.view_chunk",
            "knowledge.read_all_collections",
        )

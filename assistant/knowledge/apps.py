from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "assistant.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_delete, post_save, pre_delete

        from assistant.core import roles
        from assistant.core.sections import Section, section_register
        from assistant.knowledge import (
            demo,  # noqa: F401 - registers the demo knowledge loader
            partitions,
            reranking,
            tuning,
        )
        from assistant.knowledge.models import Collection, Document, Upload
        from assistant.knowledge.search import configure_connection
        from assistant.knowledge.services.files import on_file_row_deleted
        from assistant.training.registry import task_family_register

        connection_created.connect(configure_connection, dispatch_uid="finassist.knowledge.search")
        task_family_register(tuning.PREFIX, tuning.retriever_task)
        task_family_register(reranking.PREFIX, reranking.reranker_task)
        post_save.connect(
            partitions.on_collection_saved, sender=Collection, dispatch_uid="finassist.partition"
        )
        pre_delete.connect(
            partitions.on_collection_deleting, sender=Collection, dispatch_uid="finassist.partition"
        )
        for model in (Document, Upload):
            post_delete.connect(on_file_row_deleted, sender=model, dispatch_uid="finassist.files")

        roles.role_grant(
            roles.KNOWLEDGE_MANAGER,
            *(
                f"knowledge.{action}_{model}"
                for action in ("view", "add", "change", "delete")
                for model in ("collection", "document")
            ),
            "knowledge.view_chunk",
            "knowledge.view_upload",
            "knowledge.read_all_collections",
        )
        section_register(
            Section(
                "knowledge",
                "Knowledge base",
                "admin:knowledge_document_changelist",
                "Documents and collections: upload, replace, withdraw; searchable in seconds",
                order=50,
                permission="knowledge.change_document",
                lands=(roles.KNOWLEDGE_MANAGER,),
            )
        )

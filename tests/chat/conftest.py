"""An intent model trained once per session (the real MiniLM, LoRA, on the project's sample of
four messages per intent) and registered afresh, active, in each test's database."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.forms.models import model_to_dict
from django.test import override_settings
from django.utils import timezone

from assistant.chat.intents import SAMPLE
from assistant.chat.models import Conversation, Message
from assistant.core import roles
from assistant.generation import backend
from assistant.knowledge.models import Collection
from assistant.knowledge.services.submission import collection_get_or_create
from assistant.training import inference
from assistant.training.inference import active_forget
from assistant.training.models import ModelVersion

FAQ = (
    "id,question,answer\n"
    'faq-dispute,How do I dispute a card payment?,"Open the payment in the app and choose Dispute. '
    'We answer a dispute within ten working days and may credit the amount while we investigate."\n'
    'faq-dispute-fee,Does a dispute cost anything?,"Disputing a card payment is free of charge."\n'
    'faq-exchange,What exchange rate do you use?,"Card payments in another currency are converted at the '
    'network rate of the day, plus a fee of 0.5% on weekends."\n'
)


@pytest.fixture(scope="session")
def intent_artefact(tmp_path_factory, django_db_setup, django_db_blocker) -> dict:
    from assistant.training.services import run_execute, run_submit

    with django_db_blocker.unblock(), override_settings(MODELS_DIR=tmp_path_factory.mktemp("models")):
        run = run_submit(task="chat-intent", options={"epochs": 6}, data_file=SAMPLE, dispatch=False)
        run = run_execute(run.pk)
        version = run.model_version
        fields = model_to_dict(version, exclude=["id", "run"])
        version.delete()
        run.delete()
    assert Path(fields["artefact_path"]).is_dir()
    return fields


@pytest.fixture
def intent_model(intent_artefact, db) -> Callable[[float], ModelVersion]:
    """The active chat-intent version, with the abstain threshold a test gives it."""
    versions: list[ModelVersion] = []

    def activate(abstain_threshold: float = 0.0) -> ModelVersion:
        inference._pending.clear()  # drift records of the version about to be deleted
        ModelVersion.objects.filter(task="chat-intent").delete()
        fields = {
            **intent_artefact,
            "abstain_threshold": abstain_threshold,
            "status": ModelVersion.Status.ACTIVE,
        }
        versions.append(ModelVersion.objects.create(**fields))
        active_forget("chat-intent")
        return versions[-1]

    yield activate
    active_forget("chat-intent")
    inference._pending.clear()  # drift records of a version the test's rollback removes


@pytest.fixture(autouse=True)
def fresh_backend() -> None:
    backend.cache_clear()


@pytest.fixture
def faq(db, index_files) -> Collection:
    collection = collection_get_or_create(name="faq", reader_groups=[roles.ADVISOR])
    index_files(collection, [("faq.csv", FAQ.encode())])
    return collection


@pytest.fixture
def sam(db) -> User:
    """A support agent."""
    user = User.objects.create_user("sam", password="pw", is_staff=True)
    Group.objects.get(name=roles.SUPPORT_AGENT).user_set.add(user)
    return user


# The assistant's turns of a made-up history: (intent, kind, how many, days ago).
HISTORY = [
    ("exchange_rate", Message.Kind.ANSWER, 3, 2),
    ("card_arrival", Message.Kind.HANDOFF, 1, 2),
    ("card_arrival", Message.Kind.HANDOFF, 2, 0),
    ("balance_not_updated_after_cheque_or_cash_deposit", Message.Kind.ANSWER, 1, 0),
    ("exchange_rate", Message.Kind.CLARIFY, 1, 0),
]


@pytest.fixture
def chat_history(db) -> Conversation:
    """Assistant turns over three days (written directly: no model is needed to count them)."""
    conversation = Conversation.objects.create(session_key="history")
    for intent, kind, count, days_ago in HISTORY:
        for _ in range(count):
            message = Message.objects.create(
                conversation=conversation, role=Message.Role.ASSISTANT, kind=kind, intent=intent, text="..."
            )
            Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return conversation

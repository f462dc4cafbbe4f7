from django.core.management import call_command

from assistant.chat.intents import CHAT_INTENT, INTENTS


def test_without_banking77_the_router_trains_on_the_projects_sample(settings, tmp_path):
    settings.DATASETS_DIR = tmp_path
    examples = CHAT_INTENT.examples()
    assert len(examples) == 4 * len(INTENTS)
    assert {e.label for e in examples} == set(INTENTS)


def test_make_run_trains_the_router_only_when_none_is_active(intent_model, capsys):
    intent_model(0.0)
    call_command("train", "chat-intent", "--unless-active", "--activate", "always")
    assert "has an active version: nothing to train" in capsys.readouterr().out

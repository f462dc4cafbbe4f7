from django import template
from django.utils.safestring import SafeString

from assistant.chat.intents import intent_label
from assistant.chat.models import Message
from assistant.generation.html import marked_html

register = template.Library()


@register.filter
def reply_html(message: Message) -> SafeString:
    return marked_html(message.text, message.ungrounded)


@register.filter
def intent_words(intent: str) -> str:
    return intent_label(intent)

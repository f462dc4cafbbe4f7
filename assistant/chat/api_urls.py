from django.urls import path

from assistant.chat import apis

urlpatterns = [
    path("", apis.ConversationCreateApi.as_view(), name="chat-api-conversations"),
    path("<str:conversation>/", apis.ConversationDetailApi.as_view(), name="chat-api-conversation"),
    path("<str:conversation>/messages", apis.MessageCreateApi.as_view(), name="chat-api-messages"),
    path("messages/<int:message_id>/feedback", apis.MessageFeedbackApi.as_view(), name="chat-api-feedback"),
]

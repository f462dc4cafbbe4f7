from django.urls import path

from assistant.chat import views

app_name = "chat"

urlpatterns = [
    path("", views.chat, name="chat"),
    path("new", views.chat_new, name="new"),
    path("messages", views.message_create, name="message-create"),
    path("messages/<int:message_id>/feedback", views.message_feedback, name="message-feedback"),
    path("staff/", views.staff, name="staff"),
]

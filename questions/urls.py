from __future__ import annotations

from django.urls import path

from questions import views

app_name = "questions"

urlpatterns = [
    path("", views.question_list, name="list"),
    path("new/", views.question_create, name="create"),
    path("<int:pk>/", views.question_detail, name="detail"),
    path("<int:pk>/attachment/", views.question_attachment, name="attachment"),
]

from __future__ import annotations

from django.urls import path

from initiatives import views

app_name = "initiatives"

urlpatterns = [
    path("", views.initiative_list, name="list"),
    path("new/", views.initiative_create, name="create"),
    path("import/", views.initiative_import, name="import"),
    path("import/template.xlsx", views.initiative_import_template, name="import_template"),
    path("<int:pk>/", views.initiative_detail_view, name="detail"),
    path("<int:pk>/edit/", views.initiative_edit, name="edit"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment_delete"),
    path("questions/", views.question_list, name="questions"),
    path("questions/new/", views.question_create, name="question_create"),
    path("questions/<int:pk>/", views.question_detail, name="question"),
    path("questions/<int:pk>/attachment/", views.question_attachment, name="question_attachment"),
]

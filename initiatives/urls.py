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
]

from __future__ import annotations

from django.urls import path

from councils import views

app_name = "councils"

urlpatterns = [
    # Public: the initiatives selected as outstanding.
    path("sang-kien-tieu-bieu/", views.public_list, name="public"),
    # Officers, councils and the levels above: rounds, nominations, scoring, documents.
    path("councils/", views.rounds, name="rounds"),
    path("councils/new/", views.round_new, name="new"),
    path("councils/<int:pk>/", views.round_detail, name="round"),
    path("councils/<int:pk>/edit/", views.round_edit, name="edit"),
    path("councils/<int:pk>/nominate/", views.nominate, name="nominate"),
    path("councils/<int:pk>/nominations/<int:nomination_id>/", views.nomination_detail, name="nomination"),
    path("councils/<int:pk>/documents/<str:name>", views.document, name="document"),
    path("councils/nominations/<int:nomination_id>/withdraw/", views.withdraw, name="withdraw"),
]

from __future__ import annotations

from django.urls import path

from honours import views

app_name = "honours"

urlpatterns = [
    # Public: the issued decisions, and each one's documents.
    path("vinh-danh/", views.public_list, name="public"),
    path("vinh-danh/<int:pk>/", views.public_decision, name="public_decision"),
    path("vinh-danh/<int:pk>/quyet-dinh.<str:kind>", views.document, name="document"),
    # Leadership and the board: proposals, drafts, decisions.
    path("dashboard/honours/", views.proposal, name="proposal"),
    path("dashboard/honours/prepare/", views.prepare, name="prepare"),
    path("dashboard/honours/decisions/", views.decisions, name="decisions"),
    path("dashboard/honours/decisions/<int:pk>/", views.decision, name="decision"),
]

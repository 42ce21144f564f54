"""/api/v1/: the versioned API; its OpenAPI schema at /api/v1/schema/."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.views import APIView

from api import views

app_name = "api"


def public(view: type[APIView]) -> Callable[..., HttpResponse]:
    """A public operation: its kept answers served before the framework's dispatch."""
    return views.served_from_cache(view.as_view())


urlpatterns = [
    path("v1/programme/", public(views.ProgrammeView), name="programme"),
    path("v1/initiatives/", public(views.InitiativeList), name="initiatives"),
    path("v1/initiatives/<str:pk>/", public(views.InitiativeDetail), name="initiative"),
    path("v1/faq/", public(views.AnswerList), name="faq"),
    path("v1/leaderboards/", public(views.LeaderboardList), name="leaderboards"),
    path("v1/leaderboards/<str:pk>/", public(views.LeaderboardDetail), name="leaderboard"),
    path("v1/leaderboards/<str:pk>/bang-xep-hang.csv", public(views.LeaderboardCsv), name="leaderboard_csv"),
    path("v1/leaderboards/<str:pk>/bang-xep-hang.xlsx", public(views.LeaderboardXlsx), name="leaderboard_xlsx"),
    path("v1/honours/", public(views.HonourDecisionList), name="honours"),
    path("v1/honours/<str:pk>/", public(views.HonourDecisionDetail), name="honour"),
    path("v1/unit/initiatives/", views.UnitInitiativeList.as_view(), name="unit_initiatives"),
    path("v1/unit/initiatives/<str:pk>/", views.UnitInitiativeDetail.as_view(), name="unit_initiative"),
    path("v1/schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    re_path(r"", views.no_such_path),  # last: anything else under /api/
]

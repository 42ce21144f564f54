"""/api/v1/: the versioned API; its OpenAPI schema at /api/v1/schema/."""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from api import views

app_name = "api"

urlpatterns = [
    path("v1/programme/", views.ProgrammeView.as_view(), name="programme"),
    path("v1/initiatives/", views.InitiativeList.as_view(), name="initiatives"),
    path("v1/initiatives/<str:pk>/", views.InitiativeDetail.as_view(), name="initiative"),
    path("v1/faq/", views.AnswerList.as_view(), name="faq"),
    path("v1/leaderboards/", views.LeaderboardList.as_view(), name="leaderboards"),
    path("v1/leaderboards/<str:pk>/", views.LeaderboardDetail.as_view(), name="leaderboard"),
    path("v1/leaderboards/<str:pk>/bang-xep-hang.csv", views.LeaderboardCsv.as_view(), name="leaderboard_csv"),
    path("v1/leaderboards/<str:pk>/bang-xep-hang.xlsx", views.LeaderboardXlsx.as_view(), name="leaderboard_xlsx"),
    path("v1/honours/", views.HonourDecisionList.as_view(), name="honours"),
    path("v1/honours/<str:pk>/", views.HonourDecisionDetail.as_view(), name="honour"),
    path("v1/unit/initiatives/", views.UnitInitiativeList.as_view(), name="unit_initiatives"),
    path("v1/unit/initiatives/<str:pk>/", views.UnitInitiativeDetail.as_view(), name="unit_initiative"),
    path("v1/schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    re_path(r"", views.no_such_path),  # last: anything else under /api/
]

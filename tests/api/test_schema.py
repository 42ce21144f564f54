"""The API tested as a client would (issue 21, item 2): its OpenAPI schema is generated and valid,
and for every operation it describes, cases generated from the schema (Schemathesis, on the real
application through WSGI) never get a server error and always get an answer the schema describes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import checks

from api import services
from leaderboard.snapshots import leaderboard_snapshot
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def test_the_schema_is_generated_and_valid_openapi(client) -> None:
    response = client.get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)  # the OpenAPI 3 meta-schema
    assert schema["info"]["version"] == "1 (v1)"
    assert set(schema["paths"]) == {
        "/api/v1/programme/",
        "/api/v1/initiatives/",
        "/api/v1/initiatives/{id}/",
        "/api/v1/faq/",
        "/api/v1/honours/",
        "/api/v1/honours/{id}/",
        "/api/v1/unit/initiatives/",
        "/api/v1/unit/initiatives/{id}/",
        "/api/v1/leaderboards/",
        "/api/v1/leaderboards/{id}/",
        "/api/v1/leaderboards/{id}/bang-xep-hang.csv",
        "/api/v1/leaderboards/{id}/bang-xep-hang.xlsx",
    }
    assert schema["components"]["securitySchemes"]["unitToken"]["name"] == "Authorization"
    create = schema["paths"]["/api/v1/unit/initiatives/"]["post"]
    assert set(create["responses"]) == {"201", "400", "401", "403", "404", "409", "415", "422", "429"}
    assert [(p["name"], p["in"], p["required"]) for p in create["parameters"]] == [("Idempotency-Key", "header", True)]
    assert set(create["responses"]["201"]["headers"]) == {"Location", "Idempotent-Replayed"}
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/InitiativeWrite"
    }


@pytest.fixture
def api_schema(program, unit_tree, roles, monkeypatch) -> Iterator[schemathesis.schemas.BaseSchema]:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"public": "100000/min"})
    for n in range(3):
        InitiativeFactory(
            program=program, unit=unit_tree.gang_thep, status="valid", title=f"Cải tiến {n}",
            submitted_at=timezone.now() - dt.timedelta(hours=1),
        )  # fmt: skip
    leaderboard_snapshot(program=program, at=timezone.now())  # a published leaderboard
    # As Django's test client does: a request's end must not close the test's own connection (its
    # transaction holds the data above).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    # A token that may write: the POST saves and submits initiatives (a read-only one is refused, 403,
    # which tests/api/test_write.py tests).
    token = services.token_issue(user=roles["superuser"], unit=unit_tree.thep, name="Schemathesis", may_write=True)[1]
    try:
        loaded = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
        loaded.token_header = {"Authorization": f"Token {token}"}  # every case carries Thép's token
        yield loaded
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def excluded_checks(operation: schemathesis.APIOperation) -> list:
    """A new initiative is checked by the site's form, whose rules reach beyond what a schema says
    (which unit codes and field ids exist, shares adding up to 100): a body the schema allows may be
    refused (400), and a key Hypothesis draws again with another body is 422. Both answers are
    described by the schema, which is still checked, as is every other answer."""
    return [checks.positive_data_acceptance] if operation.method.upper() == "POST" else []


def test_every_operation_answers_as_its_schema_says_and_never_with_a_server_error(api_schema) -> None:
    """Schemathesis's own pytest integration does not run under this pytest, so its strategies are
    driven here: every operation of the schema, up to 40 generated requests each."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 13  # every resource and the POST of a unit's initiatives (the schema leaves itself out)
    for operation in operations:

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=40, deadline=None, database=None, suppress_health_check=list(hypothesis.HealthCheck)
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=api_schema.token_header, excluded_checks=excluded_checks(case.operation))

        check()

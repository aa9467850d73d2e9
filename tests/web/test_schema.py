"""Schemathesis against the review room's OpenAPI schema, on SQLite and PostgreSQL: generated
requests to every operation, authenticated, and not one may end in a server error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from soundstage.web.app import create_app

from .conftest import ReviewRoom


@pytest.fixture
def documented(review_room: ReviewRoom, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """The review room with ``[serve] api_schema`` on: the schema at /openapi.json (off by default)."""
    monkeypatch.setenv("SOUNDSTAGE_SERVE__API_SCHEMA", "true")
    app = create_app(review_room.root)
    yield app
    app.state.production.close()


EXAMPLES = 25  # per operation: enough to reach NUL bytes, huge numbers and odd paths, still quick


def test_no_server_errors_for_generated_requests(review_room: ReviewRoom, documented: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", documented)
    headers = {"Authorization": f"Bearer {review_room.tokens['producer']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        run()


def test_every_operation_says_what_it_answers(review_room: ReviewRoom, documented: FastAPI) -> None:
    """Each operation of /openapi.json names the schema of its answer, and real answers to
    generated requests keep to it."""
    paths = review_room.app.openapi()["paths"]  # built in process even while not served
    for path, operations in paths.items():
        for method, operation in operations.items():
            ok = {code: answer for code, answer in operation["responses"].items() if code.startswith("2")}
            content = next(iter(ok.values()))["content"]
            expected = "image/png" if path.startswith("/media/") else "application/json"
            assert expected in content, (method, path)
            if expected == "application/json":
                assert content[expected]["schema"]["$ref"].startswith("#/components/schemas/"), (method, path)

    schema = schemathesis.openapi.from_asgi("/openapi.json", documented)
    headers = {"Authorization": f"Bearer {review_room.tokens['producer']}"}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/media/"):
            continue  # a PNG, not JSON

        @given(case=operation.as_strategy())
        @settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[response_schema_conformance])

        conforms()

"""Schemathesis against the review room's OpenAPI schema, on SQLite and PostgreSQL: generated
requests to every operation, authenticated, and not one may end in a server error."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from .conftest import ReviewRoom

EXAMPLES = 25  # per operation: enough to reach NUL bytes, huge numbers and odd paths, still quick


def test_no_server_errors_for_generated_requests(review_room: ReviewRoom) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", review_room.app)
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

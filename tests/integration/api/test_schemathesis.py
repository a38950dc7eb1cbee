"""Schemathesis fuzzes every operation of the OpenAPI schema: no answer is a 5xx."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from nexus.api import BackgroundServer
from nexus.store import DuckDBStore
from tests.integration.api.conftest import API_KEY, build

EXAMPLES = 15
"""Per operation and generation mode (positive: valid input, negative: invalid)."""


def test_no_operation_answers_a_server_error(store: DuckDBStore, home: Path) -> None:
    # with the key, the POST bodies are fuzzed too; retrain cannot start (no config)
    world = build(store, home, retrain_config=home / "no-such-experiment.yaml")
    failures: list[str] = []
    with BackgroundServer(world.app) as server:
        schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 16
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.generate],
                )
                @given(case=operation.as_strategy(generation_mode=mode))
                def fuzz(case: schemathesis.Case) -> None:
                    response = case.call(base_url=server.url, headers={"X-API-Key": API_KEY})
                    if response.status_code >= 500:
                        failures.append(
                            f"{case.method} {case.formatted_path} {case.query} {case.body!r} "
                            f"-> {response.status_code} {response.text[:300]}"
                        )

                try:
                    fuzz()
                except Unsatisfiable:  # no invalid input exists (an operation without inputs)
                    assert mode is GenerationMode.NEGATIVE, operation.label
    assert not failures, "\n".join(failures[:10])

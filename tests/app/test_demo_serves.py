"""The seeded demo's deployments load, verify and answer in a real ``steward serve`` process.

Swap candidates warm up on rows drawn from each version's stored training profile; the demo's
integer columns with few values (month, payment status) are profiled as categories, and this is
the test that would have seen every demo deployment refused at start-up.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from serving.servingkit import serving

from steward.core.setup.demo import demo_traffic_targets, issue_demo_traffic_key
from steward.core.steward import Steward


def test_every_demo_deployment_is_ready_and_answers_a_sample_row(
    demo_steward: Steward, tmp_path: Path
) -> None:
    targets = demo_traffic_targets(demo_steward)
    assert {(environment, pipeline) for environment, pipeline, _, _ in targets} >= {
        ("Dev", "bike-demand"),
        ("Dev", "credit-default"),
        ("Test", "credit-default"),
    }
    serving_now = {(d.environment_name, d.pipeline_name): d for d in demo_steward.deployments.serving()}
    key = issue_demo_traffic_key(demo_steward)
    with serving(demo_steward, tmp_path, ready=False) as service, service.client(key) as client:
        service.wait_ready(timeout=240)  # three real pipelines load and warm up; the machine may be busy
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        for environment, pipeline, rows_file, columns in targets:
            row = pd.read_csv(rows_file, nrows=1)[list(columns)].iloc[0]
            answer = client.post(f"/v1/{environment}/{pipeline}/predict", json=row.to_dict())
            assert answer.status_code == 200, f"{environment}/{pipeline}: {answer.text}"
            body = answer.json()
            deployed = demo_steward.pipelines.version_by_id(serving_now[(environment, pipeline)].version_id)
            assert (body["version"], body["served_by"]) == (deployed.number, "primary")
    assert "refused" not in service.output()

"""compose.yaml starts what Steward is: PostgreSQL, migrations once, then app, worker and scoring service.

Docker is not usable on every machine that runs the tests, so this reads the
file (YAML anchors resolved, as Compose resolves them) and checks it against
the CLI and the settings it drives; ``docker compose config`` checks the rest.
"""

import re
from pathlib import Path

import yaml

from steward.app.cli.root import COMMANDS
from steward.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
STEWARD_SERVICES = {"migrate", "app", "worker", "scoring"}
PENDING = {"serve"}  # the scoring service's command (issue 11), built beside this file


def test_services_and_their_commands():
    services = COMPOSE["services"]
    assert set(services) == {"postgres", *STEWARD_SERVICES}
    commands = {name: services[name]["command"][0] for name in STEWARD_SERVICES}
    assert commands == {"migrate": "db", "app": "app", "worker": "worker", "scoring": "serve"}
    for command in commands.values():
        assert command in COMMANDS or command in PENDING


def test_every_steward_process_shares_the_database_and_the_artifact_volume():
    services = COMPOSE["services"]
    urls = {services[name]["environment"]["STEWARD_DATABASE_URL"] for name in STEWARD_SERVICES}
    assert len(urls) == 1 and urls.pop().startswith("postgresql+psycopg://")
    for name in STEWARD_SERVICES:
        assert "steward-data:/data" in services[name]["volumes"]
        assert services[name]["environment"]["STEWARD_DATA_DIR"] == "/data"


def test_the_servers_wait_for_migrations_and_publish_the_default_ports():
    services = COMPOSE["services"]
    defaults = Settings()
    for name in ("app", "worker", "scoring"):
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["app"]["ports"] == [f"{defaults.app_port}:{defaults.app_port}"]
    assert services["scoring"]["ports"] == [f"{defaults.scoring_port}:{defaults.scoring_port}"]


def test_the_image_runs_the_steward_command_from_the_lock():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["steward"]' in dockerfile
    assert re.search(r"pip install .*-c /tmp/requirements.lock", dockerfile)
    assert "STEWARD_APP_ADDRESS=0.0.0.0" in dockerfile  # reachable from outside its container

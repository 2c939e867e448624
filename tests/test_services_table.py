"""One table of services: a row added to includes/services.jinja reaches every file it feeds.

The test adds a dummy service to a copy of the template, its row and its choice only, and
checks that the compose file, both workflows, the dependency list, the harness's settings,
catalog, fixture list and compose helper, mypy's overrides and the README all pick it up.
"""

from __future__ import annotations

from pathlib import Path

import copier
import pytest
import yaml

from tests.test_ci_files import WORKFLOW
from tests.test_migrations import edit
from tests.test_update import snapshot_of_template

DUMMY_ROW = """    {
        'name': 'dummy', 'image': 'dummy/dummy:1.2', 'title': 'Dummy DB', 'port': 7777,
        'plain_container': False,
        'fixtures': [('fixtures', ['dummy_client', 'dummy_url'])],
        'client': [('dummy-client>=1,<2', 'The dummy client.')], 'untyped': 'dummy_client.*',
        'local': '`dummyd`',
        'url': 'dummy://{login}{host}:{port}/{database}',
        'url_fields': {'user': (['DUMMY_USER'], 'admin'), 'database': (['DUMMY_DB'], 'main')},
        'url_comment': '',
        'compose': dummy_compose, 'workflow': dummy_workflow,
        'test_url': 'dummy://{address}/main',
    },
"""
DUMMY_BLOCKS = """{%- set dummy_compose %}
    image: ${IT_DUMMY_IMAGE:-dummy/dummy:1.2}
    ports:
      - "127.0.0.1:${IT_DUMMY_PORT:-}:7777"
{%- endset %}
{%- set dummy_workflow %}
        image: dummy/dummy:1.2
        ports:
          - 7777
{%- endset %}
"""


@pytest.fixture(scope="module")
def with_dummy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the template with a row for a dummy service, rendered with it."""
    template = snapshot_of_template(tmp_path_factory.mktemp("table") / "template")
    table = template / "includes" / "services.jinja"
    edit(table, "] %}\n{%- set selected", DUMMY_ROW + "] %}\n{%- set selected")
    edit(table, "{%- set catalog = [", DUMMY_BLOCKS + "{%- set catalog = [")
    edit(template / "copier.yml", "    Redis: redis\n", "    Redis: redis\n    Dummy DB: dummy\n")
    project = tmp_path_factory.mktemp("render") / "project"
    copier.run_copy(
        str(template),
        project,
        data={"services": ["postgres", "redis", "dummy"]},
        vcs_ref="HEAD",
        defaults=True,
        quiet=True,
    )
    return project


def test_the_compose_file_and_the_workflow_start_it(with_dummy: Path) -> None:
    compose = yaml.safe_load((with_dummy / "docker-compose.test.yml").read_text())
    (job,) = yaml.safe_load((with_dummy / WORKFLOW).read_text())["jobs"].values()

    assert compose["services"]["dummy"]["image"] == "${IT_DUMMY_IMAGE:-dummy/dummy:1.2}"
    assert list(compose["services"]) == ["postgres", "redis", "dummy", "test-api"]
    assert (
        compose["services"]["test-api"]["environment"]["TEST_DUMMY_URL"]
        == "dummy://dummy:7777/main"
    )
    assert "dummy" in compose["services"]["test-api"]["depends_on"]
    assert job["services"]["dummy"]["image"] == "dummy/dummy:1.2"
    run_step = next(step for step in job["steps"] if "pytest" in str(step.get("run", "")))
    published = "127.0.0.1:${{ job.services.dummy.ports['7777'] }}"
    assert run_step["env"]["TEST_DUMMY_URL"] == f"dummy://{published}/main"


def test_its_client_and_its_testcontainers_extra_are_dependencies(with_dummy: Path) -> None:
    requirements = (with_dummy / "tests/integration/requirements.txt").read_text().splitlines()

    assert "# The dummy client." in requirements
    assert "dummy-client>=1,<2" in requirements
    assert "testcontainers[postgres,redis,dummy]>=4.13,<5" in requirements


def test_the_harness_knows_its_image_recipe_fixtures_and_url(with_dummy: Path) -> None:
    harness = with_dummy / "tests/integration/harness"

    assert 'DUMMY_IMAGE = "dummy/dummy:1.2"' in (harness / "config.py").read_text()
    catalog = (harness / "services" / "__init__.py").read_text()
    assert "from .dummy.server import SERVICE as DUMMY" in catalog
    assert "    DUMMY,\n)" in catalog
    fixtures = (harness / "fixtures.py").read_text()
    assert "from .services.dummy.fixtures import dummy_client, dummy_url" in fixtures
    assert '    "dummy_client",\n' in fixtures
    compose_env = (harness / "compose_env.py").read_text()
    assert (
        '    "dummy": Reach(\n        7777,\n        "dummy://{login}{host}:{port}/{database}",'
        in (compose_env)
    )
    assert '("user", ("DUMMY_USER",), "admin"),' in compose_env


def test_mypy_and_the_readme_name_it(with_dummy: Path) -> None:
    pyproject = (with_dummy / "pyproject.toml").read_text()
    readme = (with_dummy / "tests/integration/README.md").read_text()

    assert 'module = ["dummy_client.*"]' in pyproject
    assert "PostgreSQL, Redis and Dummy DB" in readme
    assert "`TEST_DUMMY_URL`" in readme
    assert "`dummyd`" in readme

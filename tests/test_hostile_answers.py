"""Fast layer: hostile answers to every question are refused with a message, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import render

HOSTILE = {
    "double quote": 'Order "Service"',
    "single quote": "Order 'Service'",
    "newline": "Order\nService",
    "yaml mapping": "order: service",
    "yaml list": "- order",
    "jinja expression": "{{ 7 * 7 }}",
    "jinja statement": "{% raw %}x",
    "workflow expression": "${{ github.token }}",
    "shell substitution": "$(id)",
    "shell chain": "x; rm -rf ~",
    "backtick": "`id`",
    "path traversal": "../../etc/passwd",
    "unicode": "Ördér Sérvice",
    "empty": "",
}
FREE_TEXT = {
    "project_name": "Type 2-64 characters",
    "package_name": "Type a lower-case Python identifier",
    "redis_version": "Type a Redis version",
    "app_factory": "Type an import path as module:attribute",
    "models_metadata": "Type an import path as module:attribute",
    "session_dependency": "Type an import path as module:attribute",
    "current_user_dependency": "Type an import path as module:attribute",
    "jwt_key": "Type an environment variable",
    "jwt_subject_claim": "Type a claim name",
    "test_timeout": "Type a whole number of seconds",
    "coverage_threshold": "Type a whole percentage",
    "ci_shards": "Type a whole number of CI jobs",
}
# Asked only with example_app=false (their validators also run on answers given with --data).
ADOPTION = {"app_factory", "models_metadata", "session_dependency", "current_user_dependency"}
ADOPTION |= {"jwt_key", "jwt_subject_claim", "jwt_extra_claims"}
# Free text where an empty answer is valid (no extra claims): every other hostile value is refused.
OPTIONAL_TEXT = {"jwt_extra_claims": "Type name=value pairs"}
CHOICES = [
    "python_version",
    "postgres_version",
    "web_framework",
    "http_client",
    "isolation",
    "auth",
    "ci",
]


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("question", FREE_TEXT)
def test_free_text_questions_refuse_hostile_answers(
    tmp_path: Path, question: str, value: str
) -> None:
    destination = tmp_path / "project"

    adopting = {"example_app": False} if question in ADOPTION else {}

    with pytest.raises(ValueError, match=FREE_TEXT[question]):
        render(destination, **adopting, **{question: value})

    assert not destination.exists() or not any(destination.iterdir())


@pytest.mark.parametrize(
    "value",
    [value for name, value in HOSTILE.items() if name != "empty"],
    ids=[name for name in HOSTILE if name != "empty"],
)
@pytest.mark.parametrize("question", OPTIONAL_TEXT)
def test_optional_text_questions_refuse_hostile_answers(
    tmp_path: Path, question: str, value: str
) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match=OPTIONAL_TEXT[question]):
        render(destination, example_app=False, **{question: value})

    assert not destination.exists() or not any(destination.iterdir())


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("question", CHOICES)
def test_choice_questions_refuse_anything_but_their_choices(
    tmp_path: Path, question: str, value: str
) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match="Invalid choice"):
        render(destination, **{question: value})

    assert not destination.exists() or not any(destination.iterdir())


@pytest.mark.parametrize("name", ["class", "import", "none", "match", "tests", "conftest", "redis"])
def test_package_name_refuses_reserved_and_shadowing_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=r"keyword|shadow"):
        render(tmp_path / "project", package_name=name)


def test_spaces_in_the_project_name_render_safely(tmp_path: Path) -> None:
    project = render(tmp_path / "project", project_name="Order Service 2")

    assert 'description = "Order Service 2"' in (project / "pyproject.toml").read_text()
    assert (project / "src" / "order_service_2" / "models.py").is_file()


def test_token_auth_is_refused_without_a_web_framework(tmp_path: Path) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match="auth"):
        render(destination, web_framework="none", auth="jwt-rs256")

    assert not destination.exists() or not any(destination.iterdir())


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_mysql_flavor_refuses_anything_but_its_choices(tmp_path: Path, value: str) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match="Invalid choice"):
        render(destination, services=["postgres", "redis", "mysql"], mysql_flavor=value)

    assert not destination.exists() or not any(destination.iterdir())


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_services_refuse_anything_but_their_choices(tmp_path: Path, value: str) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match="Invalid choice"):
        render(destination, services=["postgres", "redis", value])

    assert not destination.exists() or not any(destination.iterdir())


@pytest.mark.parametrize("value", ["postgres,redis", "{{ 7 * 7 }}", "$(id)"])
def test_services_refuse_an_answer_that_is_not_a_list(tmp_path: Path, value: str) -> None:
    destination = tmp_path / "project"

    with pytest.raises((ValueError, TypeError), match=r"list|Invalid choice"):
        render(destination, services=value)

    assert not destination.exists() or not any(destination.iterdir())


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_example_app_turns_any_answer_into_a_boolean(tmp_path: Path, value: str) -> None:
    project = render(tmp_path / "project", example_app=value)

    answers = (project / ".copier-answers.yml").read_text()
    assert f"example_app: {'true' if value else 'false'}" in answers
    if value:
        assert (project / "src" / "order_service" / "models.py").is_file()
    for path in project.rglob("*"):
        if path.is_file() and len(value) > 3:
            assert value not in path.read_text(errors="replace"), path

"""Update layer: releases tagged in a clone of the template, then `copier update` between them.

Every test renders an older tag, commits it as the user's project, changes things the way a
user would, then updates to a newer tag made in the same clone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import copier
import pytest
from copier.errors import UnsafeTemplateError

from tests.helpers import ROOT, run
from tests.suite import assert_all_passed, run_suite
from tests.test_update import git, snapshot_of_template

SUITE = Path("tests/integration")
MIGRATION = """_migrations:
  - version: {version}
    when: "{{{{ _stage == 'before' }}}}"
    command:
      - "{{{{ _copier_python }}}}"
      - "{{{{ _copier_conf.src_path }}}}/hooks/migrate.py"
      - --stage
      - "{{{{ _stage }}}}"
      - --version
      - "{{{{ _version_current }}}}"
"""


def release(template: Path, version: str) -> None:
    """Commit everything in the template clone and tag it as an annotated release."""
    git(template, "add", "-A")
    git(template, "commit", "-qm", f"release {version}", "--allow-empty")
    git(template, "tag", "-a", version, "-m", f"it-template {version}")


def commit(project: Path, message: str) -> None:
    """Commit every change in the project, as the user does before `copier update`."""
    git(project, "add", "-A")
    git(project, "commit", "-qm", message)


def render(template: Path, project: Path, version: str) -> Path:
    """Render `version` of the template into a new git repository at `project`."""
    copier.run_copy(str(template), project, vcs_ref=version, defaults=True, quiet=True)
    git(project, "init", "-q")
    commit(project, f"render {version}")
    return project


def edit(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in `path` with `new`."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} in {path}"
    path.write_text(text.replace(old, new))


def append(path: Path, text: str) -> None:
    """Add `text` at the end of `path`."""
    path.write_text(path.read_text() + text)


def replace_line(path: Path, number: int, line: str) -> None:
    """Put `line` in place of line `number` (0-based) of `path`."""
    lines = path.read_text().splitlines(keepends=True)
    lines[number] = line + "\n"
    path.write_text("".join(lines))


def add_rename(template: Path, version: str, old: str, new: str, source: str) -> None:
    """Rename a template file in the clone, with its migration entry and rename-table row.

    `source` is the template file (under template/) that renders to `old`; its name changes
    the way the rendered name does.
    """
    renamed = source.replace(Path(old).name, Path(new).name)
    git(template, "mv", f"template/{source}", f"template/{renamed}")
    edit(template / "copier.yml", "_migrations: []\n", MIGRATION.format(version=version))
    table = template / "hooks" / "renames.json"
    rows = json.loads(table.read_text())
    rows.setdefault(version, []).append([old, new])
    table.write_text(json.dumps(rows, indent=2) + "\n")


def update(project: Path, version: str, *, unsafe: bool = False) -> None:
    """`copier update` to `version`, as `copier update --trust --defaults` would run it."""
    copier.run_update(
        project,
        vcs_ref=version,
        defaults=True,
        overwrite=True,
        unsafe=unsafe,
        conflict="inline",
        quiet=True,
    )


USER_FACTORY = '''

class AdminFactory(UserFactory):
    """A user whose e-mail address marks an administrator."""

    email = Sequence(lambda n: f"admin{n}@example.test")
'''
USER_TEST = '''"""Administrators: made by the project's own factory."""

from __future__ import annotations

from .factories import AdminFactory


def test_admin_factory_makes_an_admin_address() -> None:
    admin = AdminFactory()

    assert admin.email.startswith("admin")
'''
USER_CACHE_TEST = """

def test_an_unknown_profile_is_not_cached(redis_client: redis.Redis) -> None:
    assert redis_client.get("profile:0") is None
"""
USER_FIXTURE_DOC = '"""The payment API mocked for this test; our tests rely on it."""'
TEMPLATE_MOCKS_DOC = '"""External HTTP APIs, mocked at the `requests` library (v0.2.0)."""'
TEMPLATE_ISOLATION_DOC = '"""Per-test database isolation (v0.2.0): rollback, delete or truncate."""'


@pytest.mark.slow
def test_update_keeps_user_edits_merges_template_changes_and_migrates_a_rename(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], rendered_python: Path, state_dir: Path
) -> None:
    template = snapshot_of_template(tmp_path / "template")
    release(template, "v0.1.0")
    project = render(template, tmp_path / "project", "v0.1.0")
    suite = project / SUITE
    # The user: a new factory, a changed fixture in a template-owned file, a new test, a test
    # added to an example that the next version renames, and a reworded README title.
    append(suite / "factories.py", USER_FACTORY)
    lines = (suite / "http_mocks.py").read_text().splitlines()
    fixture_doc = lines.index("def payment_api(settings: Settings) -> Iterator[PaymentApi]:") + 1
    replace_line(suite / "http_mocks.py", fixture_doc, f"    {USER_FIXTURE_DOC}")
    (suite / "test_admins.py").write_text(USER_TEST)
    append(suite / "test_profile_cache.py", USER_CACHE_TEST)
    replace_line(suite / "README.md", 0, "# Integration tests of Order Service, our way")
    commit(project, "our changes")
    # The template: the same files and others changed, one example renamed by a migration.
    tsuite = template / "template" / SUITE
    append(tsuite / "{% if example_app %}factories.py{% endif %}.jinja", "\nTEMPLATE_V2 = True\n")
    replace_line(
        tsuite / "{% if example_app %}http_mocks.py{% endif %}.jinja", 1, TEMPLATE_MOCKS_DOC
    )
    replace_line(tsuite / "isolation.py", 1, TEMPLATE_ISOLATION_DOC)
    replace_line(tsuite / "README.md.jinja", 0, "# Integration tests of {{ project_name }} (v0.2)")
    add_rename(
        template,
        "v0.2.0",
        "tests/integration/test_profile_cache.py",
        "tests/integration/test_cache_profile.py",
        "tests/integration/{% if example_app and web_framework == 'fastapi' %}"
        "test_profile_cache.py{% endif %}.jinja",
    )
    release(template, "v0.2.0")
    capfd.readouterr()

    update(project, "v0.2.0", unsafe=True)

    printed = capfd.readouterr().out
    assert (
        "it-template migration v0.2.0: tests/integration/test_profile_cache.py -> "
        "tests/integration/test_cache_profile.py (git mv, your changes moved with it)"
    ) in printed
    # User-owned factories.py: the user's factory kept, the template's change not applied.
    factories = (suite / "factories.py").read_text()
    assert "class AdminFactory(UserFactory):" in factories
    assert "TEMPLATE_V2" not in factories
    # Template-owned http_mocks.py: both the user's fixture change and the template's change.
    mocks = (suite / "http_mocks.py").read_text()
    assert USER_FIXTURE_DOC in mocks
    assert TEMPLATE_MOCKS_DOC in mocks
    assert "<<<<<<<" not in mocks
    # A file only the template changed; the user's own test untouched.
    assert TEMPLATE_ISOLATION_DOC in (suite / "isolation.py").read_text()
    assert (suite / "test_admins.py").read_text() == USER_TEST
    # The renamed example: at its new path, nothing at the old one. Copier merges a moved file
    # without a common base, so the user's addition shows as a conflict, kept on our side.
    assert not (suite / "test_profile_cache.py").exists()
    renamed = (suite / "test_cache_profile.py").read_text()
    assert "def test_second_read_is_served_from_the_cache(" in renamed
    ours = renamed.split("<<<<<<< before updating\n", 1)[1].split("=======\n", 1)[0]
    assert "def test_an_unknown_profile_is_not_cached(" in ours
    # The conflicting line: both sides shown inline, nothing dropped, recorded as unmerged.
    readme = (suite / "README.md").read_text()
    assert "<<<<<<< before updating" in readme
    assert "# Integration tests of Order Service, our way" in readme
    assert "# Integration tests of Order Service (v0.2)" in readme
    unmerged = git(project, "diff", "--name-only", "--diff-filter=U").split()
    assert unmerged == ["tests/integration/README.md", "tests/integration/test_cache_profile.py"]
    assert "_commit: v0.2.0" in (project / ".copier-answers.yml").read_text()

    # The user resolves both conflicts their way, and the updated suite passes.
    git(project, "checkout", "--ours", "--", "tests/integration/test_cache_profile.py")
    assert (suite / "test_cache_profile.py").read_text().endswith(USER_CACHE_TEST)
    resolved = readme.split(">>>>>>> after updating\n", 1)[1]
    (suite / "README.md").write_text("# Integration tests of Order Service, our way\n" + resolved)
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}
    assert_all_passed(run_suite(rendered_python, project, env))


def test_update_does_not_bring_back_a_deleted_file_but_recreates_a_user_owned_one(
    tmp_path: Path,
) -> None:
    template = snapshot_of_template(tmp_path / "template")
    release(template, "v0.1.0")
    project = render(template, tmp_path / "project", "v0.1.0")
    (project / SUITE / "test_safety.py").unlink()
    (project / SUITE / "builders.py").unlink()
    commit(project, "drop what we do not need")
    append(template / "template" / SUITE / "test_safety.py", "\nCHANGED_IN_V0_1_1 = True\n")
    release(template, "v0.1.1")

    update(project, "v0.1.1")

    assert not (project / SUITE / "test_safety.py").exists()
    # builders.py is in _skip_if_exists: Copier recreates it whenever it is missing.
    assert (project / SUITE / "builders.py").exists()


def test_only_an_update_that_crosses_a_migration_needs_trust(tmp_path: Path) -> None:
    template = snapshot_of_template(tmp_path / "template")
    release(template, "v0.1.0")
    old = render(template, tmp_path / "old", "v0.1.0")
    safety = "tests/integration/safety.py"
    add_rename(template, "v0.2.0", safety, "tests/integration/guard.py", source=safety)
    release(template, "v0.2.0")
    current = render(template, tmp_path / "current", "v0.2.0")
    append(template / "template" / SUITE / "test_safety.py", "\nCHANGED_IN_V0_2_1 = True\n")
    release(template, "v0.2.1")

    with pytest.raises(UnsafeTemplateError, match="migrations"):
        update(old, "v0.2.1")
    assert git(old, "status", "--porcelain") == ""

    update(current, "v0.2.1")

    assert "CHANGED_IN_V0_2_1" in (current / SUITE / "test_safety.py").read_text()


@pytest.mark.parametrize(
    ("files", "printed", "after"),
    [
        (
            {"a.py": "ours"},
            "v9.0.0: a.py -> pkg/b.py (git mv, your changes moved with it)",
            {"pkg/b.py": "ours"},
        ),
        (
            {"a.py": "ours", "pkg/b.py": "theirs"},
            "v9.0.0: a.py: left in place, pkg/b.py already exists; merge the two by hand",
            {"a.py": "ours", "pkg/b.py": "theirs"},
        ),
        ({}, "v9.0.0: a.py: not in this project, nothing to move", {}),
    ],
    ids=["moved", "both-exist", "absent"],
)
def test_migrate_moves_never_deletes_and_says_what_it_did(
    tmp_path: Path, files: dict[str, str], printed: str, after: dict[str, str]
) -> None:
    table = tmp_path / "renames.json"
    table.write_text(json.dumps({"9.0.0": [["a.py", "pkg/b.py"]]}))
    project = tmp_path / "project"
    for name, text in {"README.md": "", **files}.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    git(project, "init", "-q")
    commit(project, "render")
    script = str(ROOT / "hooks" / "migrate.py")
    command = [sys.executable, script, "--stage", "before", "--version", "v9.0.0"]

    result = run([*command, "--table", str(table)], project)

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"it-template migration {printed}\n"
    left = {str(path.relative_to(project)) for path in project.rglob("*.py")}
    assert {name: (project / name).read_text() for name in left} == after
    assert sorted(
        git(project, "diff", "--cached", "--no-renames", "--name-only").split()
    ) == sorted(set(files) ^ set(after))

"""Update layer: releases tagged in a clone of the template, then `copier update` between them.

Every test renders an older tag, commits it as the user's project, changes things the way a
user would, then updates to a newer tag made in the same clone. The releases these tests make
up are numbered from v1.0.0, above every real release, so that only their own migrations run.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import copier
import pytest
import yaml
from copier.errors import UnsafeTemplateError

from tests.counts import DEFAULT_RENDER_TESTS
from tests.helpers import ROOT, cached_venv, run
from tests.suite import assert_all_passed, leftovers, run_suite
from tests.test_update import git, release_commit, snapshot_of_template, template_with_history

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
      - --answers-file
      - "{{{{ _copier_conf.answers_file }}}}"
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
    edit(template / "copier.yml", "_migrations:\n", MIGRATION.format(version=version))
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
# The first line of the module's docstring, which goes on over more lines.
TEMPLATE_MOCKS_DOC = '"""External HTTP APIs, mocked at the `requests` library (v1.1.0).'
ISOLATION = "harness/services/postgres/isolation.py"  # rendered from isolation.py.jinja
TEMPLATE_ISOLATION_DOC = '"""Per-test database isolation (v1.1.0): rollback, delete or truncate."""'


@pytest.mark.slow
def test_update_keeps_user_edits_merges_template_changes_and_migrates_a_rename(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], rendered_python: Path, state_dir: Path
) -> None:
    template = snapshot_of_template(tmp_path / "template")
    release(template, "v1.0.0")
    project = render(template, tmp_path / "project", "v1.0.0")
    suite = project / SUITE
    # The user: a new factory, a changed fixture in a template-owned file, a new test, a test
    # added to an example that the next version renames, and a reworded README title.
    append(suite / "factories.py", USER_FACTORY)
    lines = (suite / "harness" / "http_mocks.py").read_text().splitlines()
    fixture_doc = lines.index("def payment_api(settings: Settings) -> Iterator[PaymentApi]:") + 1
    replace_line(suite / "harness" / "http_mocks.py", fixture_doc, f"    {USER_FIXTURE_DOC}")
    (suite / "test_admins.py").write_text(USER_TEST)
    append(suite / "test_profile_cache.py", USER_CACHE_TEST)
    replace_line(suite / "README.md", 0, "# Integration tests of Order Service, our way")
    commit(project, "our changes")
    # The template: the same files and others changed, one example renamed by a migration.
    tsuite = template / "template" / SUITE
    append(tsuite / "{% if example_app %}factories.py{% endif %}.jinja", "\nTEMPLATE_V2 = True\n")
    replace_line(
        tsuite / "harness" / "{% if example_app %}http_mocks.py{% endif %}.jinja",
        1,
        TEMPLATE_MOCKS_DOC,
    )
    replace_line(tsuite / f"{ISOLATION}.jinja", 1, TEMPLATE_ISOLATION_DOC)
    title = "# Integration tests of {{ project_name }}\n"
    edit(tsuite / "README.md.jinja", title, title.replace("}}", "}} (v0.2)"))
    add_rename(
        template,
        "v1.1.0",
        "tests/integration/test_profile_cache.py",
        "tests/integration/test_cache_profile.py",
        "tests/integration/{% if example_app and web_framework != 'none' %}"
        "test_profile_cache.py{% endif %}.jinja",
    )
    release(template, "v1.1.0")
    capfd.readouterr()

    update(project, "v1.1.0", unsafe=True)

    printed = capfd.readouterr().out
    assert (
        "it-template migration v1.1.0: tests/integration/test_profile_cache.py -> "
        "tests/integration/test_cache_profile.py: your edits merged into v1.1.0's version; "
        "confirm each conflict"
    ) in printed
    # User-owned factories.py: the user's factory kept, the template's change not applied.
    factories = (suite / "factories.py").read_text()
    assert "class AdminFactory(UserFactory):" in factories
    assert "TEMPLATE_V2" not in factories
    # Template-owned http_mocks.py: both the user's fixture change and the template's change.
    mocks = (suite / "harness" / "http_mocks.py").read_text()
    assert USER_FIXTURE_DOC in mocks
    assert TEMPLATE_MOCKS_DOC in mocks
    assert "<<<<<<<" not in mocks
    # A file only the template changed; the user's own test untouched.
    assert TEMPLATE_ISOLATION_DOC in (suite / ISOLATION).read_text()
    assert (suite / "test_admins.py").read_text() == USER_TEST
    # The renamed example: at its new path, nothing at the old one. The migration merged the
    # user's addition into the new file; Copier merges a moved file without a common base, so
    # the addition, and only the addition, shows as a conflict to confirm.
    assert not (suite / "test_profile_cache.py").exists()
    renamed = (suite / "test_cache_profile.py").read_text()
    assert "def test_second_read_is_served_from_the_cache(" in renamed
    ours = renamed.split("<<<<<<< before updating\n", 1)[1].split("=======\n", 1)[0]
    assert "def test_an_unknown_profile_is_not_cached(" in ours
    assert renamed.count("<<<<<<< before updating") == 1
    # The conflicting line: both sides shown inline, nothing dropped, recorded as unmerged.
    readme = (suite / "README.md").read_text()
    assert "<<<<<<< before updating" in readme
    assert "# Integration tests of Order Service, our way" in readme
    assert "# Integration tests of Order Service (v0.2)" in readme
    unmerged = git(project, "diff", "--name-only", "--diff-filter=U").split()
    assert unmerged == ["tests/integration/README.md", "tests/integration/test_cache_profile.py"]
    assert "_commit: v1.1.0" in (project / ".copier-answers.yml").read_text()

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
    release(template, "v1.0.0")
    project = render(template, tmp_path / "project", "v1.0.0")
    (project / SUITE / "test_safety.py").unlink()
    (project / SUITE / "builders.py").unlink()
    commit(project, "drop what we do not need")
    append(template / "template" / SUITE / "test_safety.py", "\nCHANGED_IN_V1_0_1 = True\n")
    release(template, "v1.0.1")

    update(project, "v1.0.1")

    assert not (project / SUITE / "test_safety.py").exists()
    # builders.py is in _skip_if_exists: Copier recreates it whenever it is missing.
    assert (project / SUITE / "builders.py").exists()


def test_only_an_update_that_crosses_a_migration_needs_trust(tmp_path: Path) -> None:
    template = snapshot_of_template(tmp_path / "template")
    release(template, "v1.0.0")
    old = render(template, tmp_path / "old", "v1.0.0")
    safety = "tests/integration/harness/safety.py"
    add_rename(template, "v1.1.0", safety, "tests/integration/harness/guard.py", source=safety)
    release(template, "v1.1.0")
    current = render(template, tmp_path / "current", "v1.1.0")
    append(template / "template" / SUITE / "test_safety.py", "\nCHANGED_IN_V1_1_1 = True\n")
    release(template, "v1.1.1")

    with pytest.raises(UnsafeTemplateError, match="migrations"):
        update(old, "v1.1.1")
    assert git(old, "status", "--porcelain") == ""

    update(current, "v1.1.1")

    assert "CHANGED_IN_V1_1_1" in (current / SUITE / "test_safety.py").read_text()


# A project rendered from v0.1.0, then changed the way a team would, before it updates to this
# release: a fixture added to the (then managed) conftest.py, a factory in factories.py, a test
# module of their own, an edit in a file that moves (cache.py) and in one whose content is split
# (servers/plugin.py: its start and stop functions moved to harness/lifecycle.py).
THIS_RELEASE = "v999.0.0"  # the working tree, tagged above every real release
CONFTEST_FIXTURE = '''

@pytest.fixture
def admin_email() -> str:
    """The address of the first administrator."""
    return "root@example.test"
'''
OWN_TEST = '''"""Administrators: made by the project's own factory and fixture."""

from __future__ import annotations

from .factories import AdminFactory


def test_admin_factory_makes_an_admin_address() -> None:
    admin = AdminFactory()

    assert admin.email.startswith("admin")


def test_the_conftest_fixture_is_kept(admin_email: str) -> None:
    assert admin_email == "root@example.test"
'''
OWN_CACHE_DOC = '"""Our Redis: this worker\'s database, emptied around every test (team note)."""'
OWN_STOP_DOC = '"""Stop every server with the backend that started it (ours: in start order)."""'
STOP_DOC = '"""Stop every server with the backend that started it."""'
# The early plugin, as the CHANGELOG tells an updated project to wire it into pyproject.toml.
EARLY_PLUGIN = (
    ('pythonpath = ["src"]', 'pythonpath = ["src", "."]'),
    (
        'addopts = ["--strict-markers"',
        'addopts = ["-p", "tests.integration.harness.plugin", "--strict-markers"',
    ),
)


@pytest.mark.slow
def test_a_project_rendered_from_v0_1_0_updates_to_this_release_with_its_edits(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    template = template_with_history(tmp_path / "template")
    git(template, "tag", "-a", "v0.1.0", release_commit(template, "v0.1.0"), "-m", "v0.1.0")
    git(template, "tag", "-a", THIS_RELEASE, "-m", "the working tree")
    project = render(template, tmp_path / "project", "v0.1.0")
    suite = project / SUITE
    edit(suite / "conftest.py", "from .app import", "import pytest\n\nfrom .app import")
    append(suite / "conftest.py", CONFTEST_FIXTURE)
    append(suite / "factories.py", USER_FACTORY)
    (suite / "test_admins.py").write_text(OWN_TEST)
    cache_doc = (
        '"""This worker\'s Redis database, empty when the test starts and emptied when it ends."""'
    )
    edit(suite / "cache.py", cache_doc, OWN_CACHE_DOC)
    edit(suite / "servers" / "plugin.py", STOP_DOC, OWN_STOP_DOC)
    commit(project, "our changes")
    capfd.readouterr()

    update(project, THIS_RELEASE, unsafe=True)

    printed = capfd.readouterr().out
    said = "it-template migration v0.2.0: tests/integration/"
    assert f"{said}conftest.py: v0.2.0's version with your edits merged in" in printed
    assert f"{said}factories.py: v0.2.0's version with your edits merged in" in printed
    assert f"{said}cache.py -> tests/integration/harness/services/redis/fixtures.py" in printed
    assert f"{said}servers/plugin.py -> tests/integration/harness/plugin.py" in printed
    assert f"{said}database.py: unchanged, so v0.2.0 replaces it" in printed
    # A question v0.3.0 added keeps what the project did: pip, not uv's dependency group,
    # which its own pyproject.toml (never updated) does not have.
    assert "it-template migration v0.3.0: installer: pip (" in printed
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["installer"] == "pip"
    workflow = (project / ".github" / "workflows" / "integration-tests.yml").read_text()
    assert "pip install -r tests/integration/requirements.txt" in workflow
    assert "setup-uv" not in workflow
    # The top of tests/integration/ holds the user's files only; nothing at the old paths.
    top = sorted(path.name for path in suite.glob("*.py"))
    assert [name for name in top if not name.startswith("test_")] == [
        "__init__.py",
        "builders.py",
        "conftest.py",
        "factories.py",
    ]
    assert not (suite / "servers").exists()
    # conftest.py is the user's now: the new release's one import, the user's lines kept.
    conftest = (suite / "conftest.py").read_text()
    assert "from .harness.fixtures import *  # noqa: F403" in conftest
    assert "import pytest\n" in conftest
    assert conftest.endswith(CONFTEST_FIXTURE)
    assert "from .servers.plugin import" not in conftest
    assert "<<<<<<<" not in conftest
    # factories.py: its plumbing moved to the harness, the user's factory kept.
    factories = (suite / "factories.py").read_text()
    assert "from .harness.factories import BaseFactory" in factories
    assert "_session_source" not in factories
    assert factories.endswith(USER_FACTORY)
    assert (suite / "test_admins.py").read_text() == OWN_TEST
    # The moved and the split file: each edit is there, shown as a conflict to confirm.
    unmerged = git(project, "diff", "--name-only", "--diff-filter=U").split()
    assert unmerged == [
        "tests/integration/harness/plugin.py",
        "tests/integration/harness/services/redis/fixtures.py",
    ]
    redis_fixtures = (suite / "harness/services/redis/fixtures.py").read_text()
    ours = redis_fixtures.split("<<<<<<< before updating\n", 1)[1].split("=======\n", 1)[0]
    assert OWN_CACHE_DOC in ours
    assert OWN_STOP_DOC in (suite / "harness/plugin.py").read_text()

    # The user keeps their docstring, and moves their edit of stop_all to where it lives now.
    git(project, "checkout", "--ours", "--", "tests/integration/harness/services/redis/fixtures.py")
    git(project, "checkout", "--theirs", "--", "tests/integration/harness/plugin.py")
    edit(suite / "harness" / "lifecycle.py", STOP_DOC, OWN_STOP_DOC)
    git(project, "add", "-A")
    python = cached_venv(suite / "requirements.txt", [])
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}
    for workers in ([], ["-n", "2"]):
        outcome = run_suite(python, project, env, *workers)
        assert_all_passed(outcome)
        assert outcome.passed == DEFAULT_RENDER_TESTS + 2
    # The rendered pyproject.toml is the user's and was not updated: with the two lines the
    # CHANGELOG gives, the `pytest` command starts the servers first for any path too.
    for old, new in EARLY_PLUGIN:
        edit(project / "pyproject.toml", old, new)
    result = run(
        [str(python.parent / "pytest"), "tests", "-n", "2", "-p", "no:cacheprovider"], project, env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "integration servers (IT_BACKEND=local):" in result.stdout
    assert f"{DEFAULT_RENDER_TESTS + 2} passed" in result.stdout
    assert leftovers(state_dir) == []


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
        ({}, "v9.0.0: 1 other moved file is not in this project", {}),
    ],
    ids=["moved", "both-exist", "absent"],
)
def test_migrate_without_renders_moves_never_deletes_and_says_what_it_did(
    tmp_path: Path, files: dict[str, str], printed: str, after: dict[str, str]
) -> None:
    table = tmp_path / "renames.json"
    table.write_text(json.dumps({"9.0.0": [["a.py", "pkg/b.py"]]}))
    project = git_project(tmp_path / "project", {"README.md": "", **files})
    script = str(ROOT / "hooks" / "migrate.py")
    command = [sys.executable, script, "--stage", "before", "--version", "v9.0.0"]

    result = run([*command, "--table", str(table)], project)

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"it-template migration {printed}\n"
    assert python_files(project) == after
    assert sorted(
        git(project, "diff", "--cached", "--no-renames", "--name-only").split()
    ) == sorted(set(files) ^ set(after))


def load_migrate() -> ModuleType:
    """hooks/migrate.py as a module, to call its functions in-process."""
    spec = importlib.util.spec_from_file_location("it_template_migrate", MIGRATE)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MIGRATE = ROOT / "hooks" / "migrate.py"
FUNCTIONS = "\n\ndef one() -> int:\n    return 1\n\n\ndef two() -> int:\n    return 2\n"
OLD_MODULE = '"""Old."""\n\nimport os\n' + FUNCTIONS
NEW_MODULE = '"""New."""\n\nimport os\nimport sys\n' + FUNCTIONS
OLD_WIRING = '"""Wires it."""\n\nfrom .a import x\nfrom .b import y\n\n__all__ = ["x", "y"]\n'
NEW_WIRING = '"""Yours."""\n\nfrom .harness.fixtures import *  # noqa: F403\n'


def git_project(project: Path, files: dict[str, str]) -> Path:
    """A git repository at `project` holding `files`, all committed."""
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    git(project, "init", "-q")
    commit(project, "render")
    return project


def python_files(project: Path) -> dict[str, str]:
    """The text of every .py file of `project`, by relative path."""
    return {str(p.relative_to(project)): p.read_text() for p in project.rglob("*.py")}


def releases(tmp_path: Path, old: dict[str, str], new: dict[str, str]) -> Any:
    """A migrate.Releases whose two renders hold `old` and `new`."""
    migrate = load_migrate()
    for name, files in (("old", old), ("new", new)):
        for path, text in files.items():
            (tmp_path / name / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name / path).write_text(text)
    return migrate.Releases(tmp_path / "old", tmp_path / "new")


@pytest.mark.parametrize(
    ("ours", "printed", "expected"),
    [
        (OLD_MODULE, "a.py: unchanged, so v9.0.0 replaces it with pkg/b.py", {"a.py": OLD_MODULE}),
        (
            OLD_MODULE.replace("return 2", "return 22"),
            "a.py -> pkg/b.py: your edits merged into v9.0.0's version; confirm each conflict",
            {"pkg/b.py": NEW_MODULE.replace("return 2", "return 22")},
        ),
        (
            OLD_MODULE.replace('"""Old."""', '"""Ours."""'),
            "a.py -> pkg/b.py: your edits merged into v9.0.0's version; confirm each conflict",
            {"pkg/b.py": NEW_MODULE.replace('"""New."""', '"""Ours."""')},
        ),
    ],
    ids=["unchanged", "edited", "edited-where-the-release-changed-too"],
)
def test_a_moved_file_carries_only_the_users_edits_to_its_new_home(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ours: str,
    printed: str,
    expected: dict[str, str],
) -> None:
    project = git_project(tmp_path / "project", {"a.py": ours})
    found = releases(tmp_path, {"a.py": OLD_MODULE}, {"pkg/b.py": NEW_MODULE})
    monkeypatch.chdir(project)

    done = load_migrate().carry("a.py", "pkg/b.py", found, "v9.0.0")

    assert done == printed
    assert python_files(project) == expected
    staged = git(project, "diff", "--cached", "--no-renames", "--name-status").split("\n")
    assert sorted(filter(None, staged)) == (
        [] if ours == OLD_MODULE else ["A\tpkg/b.py", "D\ta.py"]
    )


@pytest.mark.parametrize(
    ("ours", "printed", "expected"),
    [
        (OLD_WIRING, "c.py: replaced by v9.0.0's version (you had not changed it)", NEW_WIRING),
        (
            OLD_WIRING.replace('"""Wires it."""\n', '"""Wires it."""\n\nimport pytest\n')
            + "\n\n@pytest.fixture\ndef extra() -> int:\n    return 1\n",
            "c.py: v9.0.0's version with your edits merged in",
            NEW_WIRING.replace("from .harness", "import pytest\n\nfrom .harness")
            + "\n\n@pytest.fixture\ndef extra() -> int:\n    return 1\n",
        ),
        (
            OLD_WIRING.replace("from .b import y", "from .b import y, z"),
            "c.py: v9.0.0's version, your edits kept; resolve the conflict markers",
            NEW_WIRING
            + "\n<<<<<<< yours\nfrom .b import y, z\n=======\n>>>>>>> as v9.0.0 writes it\n",
        ),
    ],
    ids=["unchanged", "lines-added", "a-written-line-changed"],
)
def test_a_file_that_becomes_the_users_keeps_what_they_added(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ours: str, printed: str, expected: str
) -> None:
    project = git_project(tmp_path / "project", {"c.py": ours})
    found = releases(tmp_path, {"c.py": OLD_WIRING}, {"c.py": NEW_WIRING})
    monkeypatch.chdir(project)

    done = load_migrate().carry("c.py", "c.py", found, "v9.0.0")

    assert done == printed
    assert (project / "c.py").read_text() == expected
    assert git(project, "diff", "--cached", "--name-only").split() == ["c.py"]

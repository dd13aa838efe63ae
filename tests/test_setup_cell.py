"""The notebooks' set-up cell and the launch configuration (Binder, Colab, JupyterHub), tested offline.

The set-up cell is run in a separate interpreter started with ``-I -S`` (no site-packages), which is what a
fresh hosted kernel looks like to it: ``course_lib`` cannot be imported. ``subprocess.run`` is replaced
by a fake that records the commands and plays git and pip (a successful clone writes a small package),
so the logic runs without a network: what it runs, what it leaves in ``sys.path`` and the environment,
and what it says when a step fails.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import setup_cell  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
URL, BRANCH = setup_cell.read_repository()
SOURCE = setup_cell.cell_source(URL, BRANCH)

# Runs the cell with a fake subprocess.run. The fake's behaviour comes from argv: "ok" (git and pip
# succeed), "git-fails" (git exits 128, as offline), "no-git" (git is not installed).
HARNESS = r'''
import json, os, subprocess, sys
mode, cell = sys.argv[1], open(sys.argv[2]).read()
calls = []
class Done:
    def __init__(self, rc): self.returncode = rc
def fake_run(cmd, *args, **kwargs):
    calls.append(list(cmd))
    if cmd[0] == "git":
        if mode == "no-git":
            raise FileNotFoundError(2, "No such file or directory", "git")
        if mode == "git-fails":
            return Done(128)
        pkg = os.path.join(cmd[-1], "course_lib")
        os.makedirs(pkg)
        open(os.path.join(pkg, "__init__.py"), "w").write("FROM_CLONE = True\n")
    return Done(0)
subprocess.run = fake_run
result = {"error": None}
try:
    exec(compile(cell, "setup-cell", "exec"), {})
except Exception as err:
    result["error"] = f"{type(err).__name__}: {err}"
try:
    import course_lib
    result["imported_from"] = course_lib.__file__
except ImportError:
    result["imported_from"] = None
result.update(calls=calls, download=os.environ.get("COURSE_DOWNLOAD"), executable=sys.executable)
print(json.dumps(result))
'''


def run_cell(tmp_path, mode, *, isolated=True, env_extra=None, source=SOURCE):
    cell = tmp_path / "cell.py"
    cell.write_text(source)
    harness = tmp_path / "harness.py"
    harness.write_text(HARNESS)
    env = {k: v for k, v in os.environ.items() if k != "COURSE_DOWNLOAD"}
    env.update(HOME=str(tmp_path / "home"), **(env_extra or {}))
    flags = ["-I", "-S"] if isolated else []
    done = subprocess.run([sys.executable, *flags, str(harness), mode, str(cell)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_notebook_starts_with_the_current_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    index = setup_cell.setup_cell_index(nb)
    assert index is not None, f"{path.name} has no set-up cell: run python scripts/setup_cell.py"
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    assert index == first_code, f"{path.name}: the set-up cell must come before every other code cell"
    cell = nb.cells[index]
    assert cell.source == SOURCE, f"{path.name}: stale set-up cell: run python scripts/setup_cell.py"
    assert "remove-cell" in cell.metadata["tags"], "the HTML book does not show the set-up cell"
    assert all(out.get("output_type") != "error" for out in cell.get("outputs", []))


def test_the_check_mode_agrees():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "setup_cell.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_where_the_course_is_installed_the_cell_does_nothing(tmp_path):
    got = run_cell(tmp_path, "ok", isolated=False)
    assert got["error"] is None and got["calls"] == [] and got["download"] is None
    assert Path(got["imported_from"]).resolve().parent == ROOT / "course_lib"


def test_a_fresh_hosted_kernel_clones_installs_and_turns_downloads_on(tmp_path):
    got = run_cell(tmp_path, "ok")
    home = str(tmp_path / "home" / "cnn-course")
    assert got["error"] is None
    assert got["calls"] == [
        ["git", "clone", "--quiet", "--depth", "1", "--branch", BRANCH, URL, home],
        [got["executable"], "-m", "pip", "install", "--quiet", "-e", home + "[notebooks]"]]
    # the kernel imports the fresh clone without a restart, and the loaders may now download
    assert got["imported_from"] == os.path.join(home, "course_lib", "__init__.py")
    assert got["download"] == "1"


def test_an_existing_clone_is_reused_and_an_explicit_choice_kept(tmp_path):
    (tmp_path / "home" / "cnn-course" / "course_lib").mkdir(parents=True)
    (tmp_path / "home" / "cnn-course" / "course_lib" / "__init__.py").write_text("")
    got = run_cell(tmp_path, "ok", env_extra={"COURSE_DOWNLOAD": "0"})
    assert [c[0] for c in got["calls"]] == [got["executable"]], "no second clone"
    assert got["download"] == "0"


@pytest.mark.parametrize("mode", ["git-fails", "no-git"])
def test_without_a_network_the_cell_says_what_to_run(tmp_path, mode):
    got = run_cell(tmp_path, mode)
    home = str(tmp_path / "home" / "cnn-course")
    error = got["error"]
    assert error is not None and error.startswith("RuntimeError")
    assert f"git clone --quiet --depth 1 --branch {BRANCH} {URL} {home}" in error
    assert "network" in error and f"-m pip install -e {home}" in error
    assert len(got["calls"]) == 1, "nothing is installed after a failed clone"
    assert got["download"] is None and got["imported_from"] is None


def test_repository_setting_is_checked(tmp_path):
    bad = tmp_path / "_config.yml"
    bad.write_text("title: x\nrepository:\n  url: https://example.org/course\n")
    with pytest.raises(SystemExit, match="github.com"):
        setup_cell.read_repository(bad)
    bad.write_text("title: x\n")
    with pytest.raises(SystemExit, match="repository"):
        setup_cell.read_repository(bad)
    good = tmp_path / "good.yml"
    good.write_text("repository:\n  url: https://github.com/a-b/c.d  # ours\n  branch: \"dev\"\nhtml: {}\n")
    assert setup_cell.read_repository(good) == ("https://github.com/a-b/c.d", "dev")


def test_launch_buttons_read_the_one_repository_setting():
    config = (ROOT / "_config.yml").read_text()
    launch = config[config.index("launch_buttons:"):]
    assert re.search(r'binderhub_url: "https://mybinder\.org"', launch)
    assert re.search(r'colab_url: "https://colab\.research\.google\.com"', launch)
    assert "jupyterhub_url:" in launch
    assert config.count("github.com/") == 1, "the repository URL is written once, in repository: url"


def test_binder_files_are_there():
    # repo2docker reads environment.yml, then runs postBuild once and start at every launch
    env = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s+- python=3\.\d+$", env, re.M) and "jupyterlab" in env
    for name in ("postBuild", "start"):
        path = ROOT / name
        assert path.exists() and os.access(path, os.X_OK), f"{name} must exist and be executable"
    assert "pip install --no-deps --no-build-isolation -e ." in (ROOT / "postBuild").read_text()
    start = (ROOT / "start").read_text()
    assert "COURSE_DOWNLOAD=1" in start and 'exec "$@"' in start


def test_built_chapter_has_colab_and_binder_buttons():
    page = ROOT / "_build" / "html" / "notebooks" / "01_images.html"
    if not page.exists():
        pytest.skip("the book is not built (run `make book` first; .ci/run does)")
    text = page.read_text()
    owner_repo = URL.removeprefix("https://github.com/")
    assert f"colab.research.google.com/github/{owner_repo}/blob/{BRANCH}/notebooks/01_images.ipynb" in text
    assert f"mybinder.org/v2/gh/{owner_repo}/{BRANCH}" in text


@pytest.mark.skipif(shutil.which("repo2docker") is None,
                    reason="repo2docker is not installed (pip install jupyter-repo2docker)")
def test_repo2docker_reads_the_environment_and_both_scripts(tmp_path):
    # a dry run: repo2docker writes the Dockerfile it would build, without Docker
    done = subprocess.run(["repo2docker", "--no-build", "--debug", "--user-id", "1000", "--user-name",
                           "jovyan", str(ROOT)], capture_output=True, text=True, timeout=300)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert re.search(r"env update .*--file \"environment\.yml\"", log), "environment.yml was not used"
    assert "RUN ./postBuild" in log and 'R2D_ENTRYPOINT="${REPO_DIR}/start"' in log

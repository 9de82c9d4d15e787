"""The student notebook's first cell, run as plain Python in a scratch folder (the kernel tests in
test_student_kernels.py run it in real Colab-like, torch-less and venv kernels)."""

from __future__ import annotations

import json
import re

import pytest

from autograder.student import package
from tests.conftest import BLANK, ROOT


def setup_source(url: str = "") -> str:
    cell = json.loads(BLANK.read_text())["cells"][0]
    source = "".join(cell["source"])
    assert source.startswith("# @title Set-up for the checks")  # Colab shows the title
    return source.replace('STUDENT_FILES_URL = ""', f"STUDENT_FILES_URL = {url!r}")


@pytest.fixture
def student_zip(tmp_path):
    """A small stand-in for the students' download: the package and the test files."""
    entries = {**package.package_entries(ROOT), **package.student_test_files(BLANK),
               "dis05.ipynb": b"the zip's copy"}
    return package.write_zip(tmp_path / "download" / package.STUDENT_ZIP_NAME, entries)


def run_cell(folder, monkeypatch, url: str = "") -> dict:
    folder.mkdir(exist_ok=True)
    monkeypatch.chdir(folder)
    monkeypatch.delenv("DIS05_GRADING", raising=False)
    namespace: dict = {}
    exec(compile(setup_source(url), "<setup cell>", "exec"), namespace)
    return namespace


def test_nothing_uploaded_and_no_location_says_what_to_do(tmp_path, monkeypatch, capsys):
    namespace = run_cell(tmp_path / "work", monkeypatch)
    said = capsys.readouterr().out.strip()
    assert "upload dis05-student.zip" in said and "\n" not in said and said.endswith(".")
    namespace["grader"].check("q2a")  # the stand-in: the rest of the notebook still runs
    assert capsys.readouterr().out.startswith("Not checked")


@pytest.mark.slow  # starts otter
def test_uploaded_zip_is_unpacked_without_the_notebook_copy(tmp_path, monkeypatch, student_zip):
    work = tmp_path / "work"
    work.mkdir()
    (work / package.STUDENT_ZIP_NAME).write_bytes(student_zip.read_bytes())
    namespace = run_cell(work, monkeypatch, url="http://127.0.0.1:9/not-fetched")
    assert (work / "tests" / "q2a.py").is_file()
    assert (work / "autograder" / "student" / "notebook.py").is_file()
    assert not (work / "dis05.ipynb").exists()  # only the checks come out of the zip
    assert type(namespace["grader"]).__name__ == "Notebook"


@pytest.mark.slow  # starts otter
def test_local_jupyter_with_the_package_installed_needs_nothing(tmp_path, monkeypatch,
                                                                student_zip):
    """This repository's venv: the package is importable, otter reads the notebook's tests."""
    work = tmp_path / "work"
    work.mkdir()
    (work / package.STUDENT_ZIP_NAME).write_bytes(student_zip.read_bytes())
    (work / "dis05.ipynb").write_text(BLANK.read_text())
    namespace = run_cell(work, monkeypatch, url="http://127.0.0.1:9/not-fetched")
    assert not (work / "tests").exists() and not (work / "autograder").exists()
    assert namespace["grader"].check("q2h", global_env={
        "q2h_input_shape": (3, 256, 256), "q2h_kernel_shape": (32, 3, 5, 5)}).grade == 1.0


@pytest.mark.slow  # starts otter
def test_missing_files_are_fetched_from_the_configured_location(tmp_path, monkeypatch,
                                                                student_zip):
    namespace = run_cell(tmp_path / "work", monkeypatch, url=student_zip.as_uri())
    assert (tmp_path / "work" / "tests" / "q2i.py").is_file()
    assert not (tmp_path / "work" / "dis05.ipynb").exists()
    assert type(namespace["grader"]).__name__ == "Notebook"


def test_unreachable_location_is_one_sentence(tmp_path, monkeypatch, capsys):
    namespace = run_cell(tmp_path / "work", monkeypatch, url=(tmp_path / "nowhere.zip").as_uri())
    said = capsys.readouterr().out.strip()
    assert said.startswith("Could not download") and "\n" not in said
    assert type(namespace["grader"]).__name__ == "_ChecksNotSetUp"


def test_grading_runs_no_set_up(tmp_path, monkeypatch, student_zip):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIS05_GRADING", "1")
    namespace: dict = {}
    exec(compile(setup_source(student_zip.as_uri()), "<setup cell>", "exec"), namespace)
    assert not (tmp_path / "tests").exists()


def test_the_otter_pin_is_the_graders():
    pin = re.search(r"^otter-grader==\S+", (ROOT / "requirements.txt").read_text(), re.M).group(0)
    assert f'otter_pin="{pin}"' in setup_source()

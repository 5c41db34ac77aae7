"""Collect under attack: links, submissions in another student's name, zip bombs.

Each attack asserts that nothing is taken that is not the student's own notebook, that
the honest students beside it are collected unchanged, that nothing is written outside
``submitted/`` and the collect log, and that the refusal is recorded with its reason.
Tests of ownership need root (to give folders to other accounts; CI runs as root).
"""

import json
import os
import shutil
import struct
import zipfile
from pathlib import Path

import pytest

from lr_course.grading import collect as collecting
from lr_course.grading import nbgrader_glue as glue

from .course_fixture import AUTOGRADER as COURSE
from .course_fixture import unreleased_course

ASSIGNMENT = "ps1_schedules"
STAMP = "2026-01-01 12:00:00.000000 UTC"
LATER = "2026-01-02 12:00:00.000000 UTC"
SOURCE_NB = COURSE / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="gives folders to other accounts")


def released(tmp_path) -> bytes:
    """A student's notebook: the source with its solutions, good enough to be identified."""
    return SOURCE_NB.read_bytes()


@pytest.fixture
def course(tmp_path, empty_gradebook):
    return unreleased_course(tmp_path, empty_gradebook)


def exchange(course, tmp_path, monkeypatch):
    inbound = tmp_path / "exchange" / "lr-course" / "inbound"
    inbound.mkdir(parents=True)
    monkeypatch.setattr(glue, "exchange_inbound", lambda c: inbound)
    return inbound


def submit(inbound, student, stamp=STAMP, data=None, owner=None, name=None):
    folder = inbound / f"{student}+{ASSIGNMENT}+{stamp}+r4nd0m"
    folder.mkdir()
    target = folder / (name or f"{ASSIGNMENT}.ipynb")
    if data is not None:
        target.write_bytes(data)
    if owner is not None:
        os.chown(folder, owner, owner)
        if target.exists():
            os.chown(target, owner, owner)
    return folder


def outside_files(course):
    """Every file of the course outside submitted/, collect_log/ and the gradebook (where a
    refused student gets a row) (must not change)."""
    return sorted(str(p.relative_to(course)) for p in course.rglob("*")
                  if p.is_file() and p.relative_to(course).parts[0] not in
                  ("submitted", "collect_log", "gradebook.db"))


def submitted_text(course, student):
    return (course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes()


def test_exchange_collects_an_honest_student(course, tmp_path, monkeypatch):
    inbound = exchange(course, tmp_path, monkeypatch)
    submit(inbound, "ann", data=released(tmp_path))
    submit(inbound, "ann", stamp=LATER, data=released(tmp_path) + b"\n")
    result = glue.collect(course, ASSIGNMENT)
    assert result["collected"] == ["ann"] and result["refused"] == []
    assert submitted_text(course, "ann") == released(tmp_path) + b"\n"   # the latest one
    stamp = (course / "submitted" / "ann" / ASSIGNMENT / "timestamp.txt").read_text()
    assert stamp == LATER


@pytest.mark.parametrize("target", ["source", "gradebook", "other_student"])
def test_exchange_never_follows_a_link(course, tmp_path, monkeypatch, target):
    inbound = exchange(course, tmp_path, monkeypatch)
    honest = submit(inbound, "ann", data=released(tmp_path))
    (course / "gradebook.db").write_bytes(b"SQLite format 3\0secret")
    before = outside_files(course)
    folder = submit(inbound, "mal")
    link = folder / f"{ASSIGNMENT}.ipynb"
    link.symlink_to({"source": SOURCE_NB, "gradebook": course / "gradebook.db",
                     "other_student": honest / f"{ASSIGNMENT}.ipynb"}[target])
    result = glue.collect(course, ASSIGNMENT)
    assert result["collected"] == ["ann"]
    assert not (course / "submitted" / "mal").exists()
    [refusal] = result["refused"]
    assert refusal["student"] == "mal" and "symbolic link" in refusal["reason"]
    assert outside_files(course) == before
    assert submitted_text(course, "ann") == released(tmp_path)


def test_exchange_entry_that_is_a_link_is_refused(course, tmp_path, monkeypatch):
    inbound = exchange(course, tmp_path, monkeypatch)
    honest = submit(inbound, "ann", data=released(tmp_path))
    (inbound / f"mal+{ASSIGNMENT}+{STAMP}+x").symlink_to(honest)
    result = glue.collect(course, ASSIGNMENT)
    assert result["collected"] == ["ann"]
    assert [r["student"] for r in result["refused"]] == ["mal"]


@needs_root
def test_a_folder_in_another_students_name_is_refused(course, tmp_path, monkeypatch):
    # "daemon" (uid 1) submits in the name of "bin" (uid 2), later than bin did.
    inbound = exchange(course, tmp_path, monkeypatch)
    submit(inbound, "bin", data=released(tmp_path), owner=2)
    submit(inbound, "bin", stamp=LATER, data=b"{}", owner=1)
    # a student with no account on the machine: only the grader's own account may hold it
    submit(inbound, "zoe", stamp=LATER, data=b"{}", owner=1)
    result = glue.collect(course, ASSIGNMENT)
    assert result["collected"] == ["bin"]
    assert submitted_text(course, "bin") == released(tmp_path)   # his own, unchanged
    reasons = {r["student"]: r["reason"] for r in result["refused"]}
    assert set(reasons) == {"bin", "zoe"}
    assert "not the student's own" in reasons["bin"] and "daemon" in reasons["bin"]


@needs_root
def test_a_file_of_another_owner_inside_a_students_folder_is_refused(course, tmp_path,
                                                                     monkeypatch):
    inbound = exchange(course, tmp_path, monkeypatch)
    folder = submit(inbound, "bin", data=released(tmp_path), owner=2)
    os.chown(folder / f"{ASSIGNMENT}.ipynb", 1, 1)
    result = glue.collect(course, ASSIGNMENT)
    assert result["collected"] == [] and "not owned" in result["refused"][0]["reason"]


def test_student_ids_with_control_characters_are_refused(course, tmp_path, monkeypatch):
    inbound = exchange(course, tmp_path, monkeypatch)
    submit(inbound, "ann\x1b[2K\rFLAGGED", data=released(tmp_path))
    result = glue.collect(course, ASSIGNMENT)
    assert result["collected"] == []
    assert result["refused"][0]["student"] == ""
    submitted = course / "submitted"
    assert not submitted.exists() or not any(submitted.iterdir())


def lms_folder(tmp_path):
    lms = tmp_path / "lms"
    (lms / "ann").mkdir(parents=True)
    (lms / "ann" / "hw.ipynb").write_bytes(released(tmp_path))
    return lms


def test_folder_source_never_follows_a_link(course, tmp_path):
    lms = lms_folder(tmp_path)
    (lms / "mal").mkdir()
    (lms / "mal" / "hw.ipynb").symlink_to(SOURCE_NB)
    (lms / "eve").symlink_to(lms / "ann")
    os.mkfifo(lms / "ann" / "zz.ipynb")   # would hang an open() that blocks
    result = glue.collect(course, ASSIGNMENT, lms)
    assert result["collected"] == ["ann"]
    assert {r["student"] for r in result["refused"]} == {"mal", "eve"}
    assert all("symbolic link" in r["reason"] for r in result["refused"])
    assert not (course / "submitted" / "mal").exists()
    assert not (course / "submitted" / "eve").exists()


def test_a_small_zip_that_expands_to_a_gigabyte_is_refused_before_any_write(course, tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("ann/hw.ipynb", released(tmp_path))
        with zf.open("mal/hw.ipynb", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 24)
            for _ in range(64):          # 1 GiB of zeros, about 1 MiB compressed
                member.write(block)
    assert archive.stat().st_size < 2 << 20
    before = outside_files(course)
    result = glue.collect(course, ASSIGNMENT, archive)
    assert result["collected"] == ["ann"]
    [refusal] = result["refused"]
    assert refusal["student"] == "mal" and "MiB" in refusal["reason"]
    assert outside_files(course) == before
    sizes = [p.stat().st_size for p in (course / "submitted").rglob("*") if p.is_file()]
    assert max(sizes) < 1 << 20


def test_a_zip_whose_total_is_too_large_is_refused_whole(course, tmp_path, monkeypatch):
    monkeypatch.setattr(collecting, "MAX_TOTAL_BYTES", 1 << 20)
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(3):
            zf.writestr(f"s{i}/hw.ipynb", b" " * (600 << 10))
    with pytest.raises(glue.GradingError, match="before extracting anything"):
        glue.collect(course, ASSIGNMENT, archive)
    assert not (course / "submitted").exists()


def test_a_zip_with_too_many_members_is_refused_whole(course, tmp_path, monkeypatch):
    monkeypatch.setattr(collecting, "MAX_MEMBERS", 50)
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(60):
            zf.writestr(f"s{i}/hw.ipynb", b"{}")
    with pytest.raises(glue.GradingError, match="members"):
        glue.collect(course, ASSIGNMENT, archive)


def test_a_zip_member_that_lies_about_its_size_is_refused(course, tmp_path):
    archive = tmp_path / "liar.zip"
    data = released(tmp_path)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ann/hw.ipynb", data)
        zf.writestr("mal/hw.ipynb", data)
    raw = bytearray(archive.read_bytes())
    # shrink mal's declared size in its local header and in the central directory
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo("mal/hw.ipynb")
    struct.pack_into("<I", raw, info.header_offset + 22, 100)
    cd = raw.find(b"PK\x01\x02", raw.find(b"PK\x01\x02") + 4)   # the second entry: mal's
    assert cd > 0
    struct.pack_into("<I", raw, cd + 24, 100)
    archive.write_bytes(bytes(raw))
    result = glue.collect(course, ASSIGNMENT, archive)
    assert result["collected"] == ["ann"]
    assert [r["student"] for r in result["refused"]] == ["mal"]


def test_zip_symlink_members_are_refused(course, tmp_path):
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ann/hw.ipynb", released(tmp_path))
        info = zipfile.ZipInfo("mal/hw.ipynb")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, str(SOURCE_NB))
    result = glue.collect(course, ASSIGNMENT, archive)
    assert result["collected"] == ["ann"]
    assert "symbolic link" in result["refused"][0]["reason"]


@pytest.mark.parametrize("name", ["/abs/hw.ipynb", "../up/hw.ipynb", "a\\..\\..\\hw.ipynb",
                                  "C:/hw.ipynb", "ann\x1b[2K/hw.ipynb"])
def test_zip_with_unsafe_names_is_refused(course, tmp_path, name):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(name, b"{}")
    with pytest.raises(glue.GradingError, match="unsafe path"):
        glue.collect(course, ASSIGNMENT, archive)


def test_refusals_are_kept_for_the_report(course, tmp_path):
    lms = lms_folder(tmp_path)
    (lms / "mal").mkdir()
    (lms / "mal" / "hw.ipynb").symlink_to(SOURCE_NB)
    glue.collect(course, ASSIGNMENT, lms)
    kept = glue.refusals(course, ASSIGNMENT)
    assert [(r.student, r.where) for r in kept] == [("mal", "mal/hw.ipynb")]
    log = json.loads((course / "collect_log" / f"{ASSIGNMENT}.json").read_text())
    assert log["collected"] == ["ann"] and log["refused"][0]["reason"]


def test_a_source_that_is_a_link_is_refused(course, tmp_path):
    lms = lms_folder(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(lms)
    with pytest.raises(glue.GradingError, match="links are not followed"):
        glue.collect(course, ASSIGNMENT, link)
    shutil.rmtree(lms)
    assert not Path(course / "submitted").exists()

"""Submitting over HTTP: streamed upload, 202 and an id, the ingest's verdict, limits, who sees what."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.wiring import Installation
from archive.catalog.models import Upload
from archive.sample import generate_sample
from archive.tokens import create_token
from tests.api.http.conftest import SAMPLE_NOW, Served

HOSTILE = Path(__file__).resolve().parents[2] / "vectors" / "packages" / "hostile"


def zip_of(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def submit(served: Served, body: bytes | Iterator[bytes], role: str = "submitter", **headers: str) -> Any:
    return served.client.post(
        "/api/v1/submissions?filename=case.zip",
        content=body,
        headers=served.headers(role) | {"Content-Type": "application/zip"} | headers,
    )


def wait_done(served: Served, submission_id: str, role: str = "submitter") -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        body: dict[str, Any] = served.client.get(
            f"/api/v1/submissions/{submission_id}", headers=served.headers(role)
        ).json()
        if body["status"] not in ("queued", "processing"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


@pytest.fixture
def package_zip(sample_package: Path) -> bytes:
    return zip_of(sample_package)


def _staged_files(inst: Installation) -> list[Path]:
    folder = inst.settings.staging_dir / "uploads"
    return sorted(folder.glob("*")) if folder.exists() else []


def test_the_same_package_twice_gets_the_same_archive_id(served: Served, package_zip: bytes) -> None:
    first = submit(served, package_zip)
    assert first.status_code == 202, first.text
    accepted = first.json()
    assert first.headers["location"] == accepted["status_url"]
    done = wait_done(served, accepted["submission_id"])
    # the fixture archived the same package from its folder: the ZIP has the same content
    assert done["status"] in ("archived", "already_archived"), done
    assert done["result"]["archive_id"] == served.archive_id
    again = wait_done(served, submit(served, package_zip).json()["submission_id"])
    assert again["status"] == "already_archived" and again["result"]["archive_id"] == served.archive_id
    assert _staged_files(served.inst) == []  # staged ZIPs are removed once answered


@pytest.mark.parametrize(
    ("vector", "code"),
    [
        ("dotdot_slash.zip", "parent_segment"),
        ("absolute_slash.zip", "absolute_path"),
        ("not_a_zip.zip", "not_a_zip"),
        ("zip_bomb_ratio.zip", "compression_ratio_exceeded"),
        ("court_xxe_file_entity.zip", "xml_doctype_forbidden"),
        ("court_doctype_utf7_external_subset.zip", "xml_doctype_forbidden"),
        ("court_billion_laughs.zip", "xml_doctype_forbidden"),
    ],
)
def test_hostile_zip_is_rejected_with_its_reason(served: Served, vector: str, code: str) -> None:
    path = HOSTILE / vector
    done = wait_done(served, submit(served, path.read_bytes()).json()["submission_id"])
    assert done["status"] == "rejected"
    assert done["result"]["errors"], done
    assert done["result"]["errors"][0]["code"] == code
    assert all(e["message"] for e in done["result"]["errors"])
    assert _staged_files(served.inst) == []


def test_a_broken_dossier_is_rejected_item_by_item(
    served: Served, sample_package: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in sample_package.rglob("*"):
        if path.is_file():
            target = broken / path.relative_to(sample_package)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (broken / "目录文件.xml").write_bytes(b"<not-closed>")
    done = wait_done(served, submit(served, zip_of(broken)).json()["submission_id"])
    assert done["status"] == "rejected"
    assert any(e["path"] == "目录文件.xml" for e in done["result"]["errors"]), done["result"]["errors"]


def test_over_the_limit_is_413_while_streaming_and_leaves_nothing(served: Served, package_zip: bytes) -> None:
    limit = served.inst.settings.limits.package_bytes
    declared = submit(served, b"x", **{"Content-Length": str(limit + 1)})
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "request_too_large"

    small = served.inst.settings.model_copy(
        update={"api": served.inst.settings.api.model_copy(update={"max_upload_bytes": 1000})}
    )
    served.inst.settings = small
    chunks = (b"\0" * 400 for _ in range(10))  # no Content-Length: chunked, refused while reading
    streamed = submit(served, chunks)
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "request_too_large"
    assert _staged_files(served.inst) == []
    with served.inst.sessions() as session:
        assert session.query(Upload).count() == 0


def test_bad_declared_digest_is_refused_before_reading_the_body(served: Served, package_zip: bytes) -> None:
    response = submit(served, package_zip, **{"X-Package-SHA256": "abc"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "request_invalid"
    assert "x-package-sha256" in response.json()["error"]["message"]


def test_wrong_declared_digest_rejects_gd_1_14(served: Served, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate_sample(other, seed=22, documents=2, now=SAMPLE_NOW)
    response = submit(served, zip_of(other), **{"X-Package-SHA256": "0" * 64})
    done = wait_done(served, response.json()["submission_id"])
    assert done["status"] == "rejected"
    failed = {r["item"] for r in done["result"]["report"]["results"] if r["status"] == "fail"}
    assert "GD-1-14" in failed


def test_a_submitter_sees_only_its_own_submissions(served: Served, package_zip: bytes) -> None:
    mine = submit(served, package_zip).json()["submission_id"]
    wait_done(served, mine)
    other = served.client.get(f"/api/v1/submissions/{mine}", headers=served.headers("archivist"))
    assert other.status_code == 200

    with served.inst.write_sessions() as session, session.begin():
        stranger = create_token(session, "another court", "submitter", dt.datetime.now(dt.UTC)).text
    hidden = served.client.get(f"/api/v1/submissions/{mine}", headers={"Authorization": f"Bearer {stranger}"})
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "submission_not_found"
    listed = served.client.get("/api/v1/submissions", headers={"Authorization": f"Bearer {stranger}"}).json()
    assert listed["items"] == []
    assert (
        served.client.get(f"/api/v1/submissions/{mine}", headers=served.headers("auditor")).status_code == 403
    )

"""SHA-256 helpers and the trust-on-first-use record format."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from michigan.data.checksums import (
    ChecksumMismatchError,
    read_record,
    record_path,
    sha256_file,
    verify_file,
)

# FIPS 180-2 test vector: SHA-256("abc")
ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_sha256_matches_the_fips_vector_across_chunks(tmp_path):
    path = tmp_path / "abc.txt"
    path.write_bytes(b"abc")
    assert sha256_file(path, chunk_size=1) == ABC_SHA256  # one byte per read: chunking is exact


def test_record_is_sha256sum_compatible(tmp_path):
    path = tmp_path / "abc.txt"
    path.write_bytes(b"abc")
    verify_file(path)
    assert record_path(path).read_text() == f"{ABC_SHA256}  abc.txt\n"
    if shutil.which("sha256sum"):
        check = subprocess.run(
            ["sha256sum", "-c", record_path(path).name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr


def test_malformed_record_is_rejected(tmp_path):
    record = tmp_path / "x.sha256"
    record.write_text("not-a-digest  x\n")
    with pytest.raises(ValueError, match="malformed"):
        read_record(record)
    assert read_record(tmp_path / "absent.sha256") is None


def test_verify_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        verify_file(tmp_path / "absent")


def test_trusted_mismatch_names_expected_and_actual(tmp_path):
    path = tmp_path / "abc.txt"
    path.write_bytes(b"abc")
    with pytest.raises(ChecksumMismatchError) as info:
        verify_file(path, expected_sha256="f" * 64, trusted=True)
    assert "f" * 64 in str(info.value)
    assert ABC_SHA256 in str(info.value)
    assert "abc.txt" in str(info.value)
    assert not record_path(path).exists()  # a failed check records nothing

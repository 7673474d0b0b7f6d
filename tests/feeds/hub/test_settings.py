"""The ``[hub]`` settings and the password redaction: a hub URL is never written with
its password."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.hub.settings import HubSettings, redact, redact_text, url_problem


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:s3cret@127.0.0.1:6379/2", "redis://:***@127.0.0.1:6379/2"),
        ("rediss://desk:p%40ss@redis.example:6380/1", "rediss://desk:***@redis.example:6380/1"),
        ("rediss://desk@redis.example:6380", "rediss://desk@redis.example:6380"),
        ("redis://u:pa:ss@host/0", "redis://u:***@host/0"),
        ("redis://u:p@ss@host/0", "redis://u:***@host/0"),
    ],
)
def test_redact_hides_the_password_and_keeps_the_rest(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_redact_text_removes_the_password_wherever_it_appears() -> None:
    url = "redis://desk:hunter2@10.0.0.5:6379/0"
    text = f"Error connecting to {url}: AUTH hunter2 failed; also redis://x:y@z:1"
    out = redact_text(text, url)
    assert "hunter2" not in out and ":y@" not in out
    assert "redis://desk:***@10.0.0.5:6379/0" in out


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:6379", "must start with redis://"),
        ("redis://", "has no host"),
        ("redis://127.0.0.1:6379/x", "database must be a number"),
        ("redis://:pw@127.0.0.1:notaport/0", "not a valid URL"),
        ("ftp://:topsecret@host", "must start with redis://"),
    ],
)
def test_bad_urls_are_named_without_their_password(url: str, problem: str) -> None:
    found = url_problem(url)
    assert found is not None and problem in found
    assert "topsecret" not in found and ":pw@" not in found


def test_good_urls_pass() -> None:
    for url in ("redis://127.0.0.1:6379/0", "rediss://u:p@h.example:6380/15", "redis://h"):
        assert url_problem(url) is None


def test_settings_check_fallback_and_prefix() -> None:
    assert HubSettings().fallback_after == 30.0
    with pytest.raises(ValueError, match="fallback"):
        HubSettings(fallback="maybe")
    with pytest.raises(ValueError, match="prefix"):
        HubSettings(prefix="a b")
    with pytest.raises(ValueError, match="hub.url") as err:
        HubSettings(url="http://:pw123@h")
    assert "pw123" not in str(err.value)


def test_ca_file_must_name_a_file(tmp_path: Path) -> None:
    assert HubSettings().ca_file == ""  # the system's trust store
    ca = tmp_path / "desk-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    assert HubSettings(ca_file=str(ca)).ca_file == str(ca)
    with pytest.raises(ValueError, match="ca_file .* not found"):
        HubSettings(ca_file=str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError, match="ca_file"):
        HubSettings(ca_file="a\x00b")

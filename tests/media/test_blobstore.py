"""Contract tests: the same behaviour from every BlobStore adapter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from media_core.blobstore import BlobStore, LocalBlobStore, S3BlobStore


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs")
        return
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="media")
        yield S3BlobStore("media", client, prefix="rec")


def test_put_then_get_returns_the_same_bytes(store: BlobStore) -> None:
    store.put("t1/rec/a.wav", b"RIFF\x00data")
    assert store.get("t1/rec/a.wav") == b"RIFF\x00data"
    assert store.exists("t1/rec/a.wav")


def test_put_accepts_a_file_path(store: BlobStore, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"\x01\x02\x03")
    store.put("t1/fax/page.tiff", src)
    assert store.get("t1/fax/page.tiff") == b"\x01\x02\x03"


def test_delete_makes_the_blob_absent(store: BlobStore) -> None:
    store.put("k", b"x")
    store.delete("k")
    assert not store.exists("k")
    with pytest.raises(KeyError):
        store.get("k")


def test_url_names_the_key(store: BlobStore) -> None:
    store.put("t1/a.wav", b"x")
    assert "t1/a.wav" in store.url("t1/a.wav")


@pytest.mark.parametrize("bad", ["", "/etc/passwd", "../x", "a/../b", "a//b", "a\\b"])
def test_rejects_keys_that_could_escape_the_store(store: BlobStore, bad: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key"):
        store.put(bad, b"x")


def test_the_media_core_stores_blobs_in_s3_when_its_blob_dir_is_an_s3_url() -> None:
    from moto import mock_aws

    from media_core.blobstore import S3BlobStore
    from media_core.config import MediaConfig

    with mock_aws():
        import boto3

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="vpbx-blobs")
        config = MediaConfig.from_env(environ={"VPBX_BLOB_DIR": "s3://vpbx-blobs/blobs", "AWS_REGION": "us-east-1"})
        assert isinstance(config.blob_store, S3BlobStore)
        config.blob_store.put("demo/recordings/r1.wav.enc", b"sealed")
        listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket="vpbx-blobs")
        assert [o["Key"] for o in listed["Contents"]] == ["blobs/demo/recordings/r1.wav.enc"]


def test_a_missing_key_is_absent_even_where_s3_answers_403_to_a_role_that_may_list_only_the_prefix() -> None:
    """S3 answers a read of a missing key with 404 only to a role that may list the whole bucket; ours may
    list only the blob prefix, so it gets 403. The store then looks the key up by listing its prefix."""
    from botocore.stub import Stubber

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    store = S3BlobStore("media", client, prefix="blobs")
    with Stubber(client) as s3:
        # a missing key: 403 on the read, and the listing under its name shows only a longer key
        s3.add_client_error("get_object", "AccessDenied", http_status_code=403,
                            expected_params={"Bucket": "media", "Key": "blobs/t/audio/a"})
        s3.add_response("list_objects_v2", {"Contents": [{"Key": "blobs/t/audio/ab"}], "KeyCount": 1},
                        expected_params={"Bucket": "media", "Prefix": "blobs/t/audio/a", "MaxKeys": 1})
        with pytest.raises(KeyError):
            store.get("t/audio/a")
        # a key that is there but may not be read: the refusal is not hidden
        s3.add_client_error("get_object", "AccessDenied", http_status_code=403)
        s3.add_response("list_objects_v2", {"Contents": [{"Key": "blobs/t/audio/b"}], "KeyCount": 1})
        with pytest.raises(client.exceptions.ClientError, match="AccessDenied"):
            store.get("t/audio/b")
        s3.assert_no_pending_responses()

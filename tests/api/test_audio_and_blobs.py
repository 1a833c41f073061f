"""Audio files: bytes in the blob store (local directory or S3), metadata in the tenant configuration."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from chalicelib import blobs
from chalicelib.blobs import LocalBlobStore, S3BlobStore, make_blob_store
from chalicelib.settings import Settings
from tests.api.conftest import Api, body, errors
from tests.conftest import call_params

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        yield make_blob_store(Settings(blob_dir=str(tmp_path / "blobs")))
        return
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="vpbx-media")
        yield make_blob_store(Settings(blob_dir="s3://vpbx-media/audio"), client)


def test_blob_stores_keep_bytes_under_keys_and_forget_them_on_delete(store):
    assert isinstance(store, LocalBlobStore | S3BlobStore)
    store.put("demo/audio/a", WAV, "audio/wav")
    assert store.get("demo/audio/a") == WAV and store.exists("demo/audio/a")
    store.delete("demo/audio/a")
    assert not store.exists("demo/audio/a")
    with pytest.raises(KeyError):
        store.get("demo/audio/a")
    with pytest.raises(ValueError):
        store.put("../escape", b"x")


def upload(api: Api, data: bytes = WAV, content_type: str = "audio/wav", query: str = "name=Welcome&kind=greeting"):
    return api.call("POST", f"/audio?{query}", raw=data, headers={"Content-Type": content_type})


def test_an_uploaded_greeting_is_stored_downloadable_and_usable_by_a_mailbox(api: Api, settings):
    # when a greeting is uploaded
    created = upload(api)
    assert created.status_code == 201, created.body
    audio = body(created)
    assert (audio["name"], audio["kind"], audio["size"], audio["content_type"]) == ("Welcome", "greeting", len(WAV),
                                                                                    "audio/wav")
    # then the bytes are in the blob directory and come back on download
    assert LocalBlobStore(settings.blob_dir).get(audio["blob_key"]) == WAV
    download = api.call("GET", f"/audio/{audio['id']}/content", headers={"Accept": "audio/wav"})
    assert download.status_code == 200 and download.body == WAV
    # and a voicemail box may refer to it, so it cannot be deleted while in use
    assert api.patch("/voicemail-boxes/100", {"greeting_audio": audio["id"]}).status_code == 200
    assert api.delete(f"/audio/{audio['id']}").status_code == 409
    api.patch("/voicemail-boxes/100", {"greeting_audio": None})
    assert api.delete(f"/audio/{audio['id']}").status_code == 204
    assert not LocalBlobStore(settings.blob_dir).exists(audio["blob_key"])


def test_bad_uploads_are_refused_with_the_reason(api: Api):
    assert "/body" in errors(upload(api, data=b"not audio at all"))
    assert "/query/kind" in errors(upload(api, query="name=x&kind=ringtone"))
    assert "/query" in errors(upload(api, query="kind=greeting"))
    assert upload(api, data=b"").status_code == 422
    audio = body(upload(api))
    assert "/size" in errors(api.patch(f"/audio/{audio['id']}", {"size": 1}))
    assert body(api.patch(f"/audio/{audio['id']}", {"name": "Renamed"}))["name"] == "Renamed"


def test_hold_music_is_a_tenant_setting_that_must_exist(api: Api):
    assert "/hold_music" in errors(api.patch("/settings", {"hold_music": "nope"}))
    music = body(upload(api, query="name=Jazz&kind=hold_music"))
    assert body(api.patch("/settings", {"hold_music": music["id"]}))["hold_music"] == music["id"]


def test_a_mailbox_greeting_uploaded_through_the_api_is_what_callers_hear(api: Api, gateway, settings):
    # given an uploaded greeting set on the sales mailbox, and a plan that sends calls to that mailbox
    audio = body(upload(api, query="name=Sales+greeting&kind=greeting"))
    box = body(api.patch("/voicemail-boxes/sales", {"greeting_audio": audio["id"]}))
    assert box["greeting_url"] == audio["url"] and audio["url"].startswith(settings.public_url + "/media/audio/demo/")
    api.put("/plans/main/draft", {"root": {"action": "voicemail", "data": {"box": "sales"}}})
    assert api.post("/plans/main/publish").status_code == 201
    # when a call comes in
    laml = gateway.post("voice", call_params("CA" + "6" * 32)).body
    # then the gateway is told to play that file, and the signed URL serves its bytes (a forged one does not)
    assert f"<Play>{audio['url'].replace('&', '&amp;')}</Play>" in laml
    path = audio["url"].removeprefix(settings.public_url)
    played = api.client.http.get(path, headers={"Accept": "*/*"})
    assert played.status_code == 200 and played.body == WAV
    assert api.client.http.get(path[:-1] + "0", headers={"Accept": "*/*"}).status_code == 404
    # and removing the greeting removes the URL too
    assert "greeting_url" not in body(api.patch("/voicemail-boxes/sales", {"greeting_audio": None}))


def test_hold_music_sets_the_url_the_hold_action_plays(api: Api, services):
    music = body(upload(api, query="name=Jazz&kind=hold_music"))
    api.patch("/settings", {"hold_music": music["id"]})
    assert services.tenants.get("demo").config["hold_music_url"] == music["url"]
    api.patch("/settings", {"hold_music": None})
    assert "hold_music_url" not in services.tenants.get("demo").config


def test_in_aws_uploads_go_to_the_s3_bucket_that_blob_dir_names(api: Api, services):
    # given the blob location set to an S3 bucket (as in the AWS deployment)
    from dataclasses import replace

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="vpbx-audio")
        services.settings = replace(services.settings, blob_dir="s3://vpbx-audio/tenants")
        # when a file is uploaded and downloaded through the API
        audio = body(upload(api))
        download = api.call("GET", f"/audio/{audio['id']}/content", headers={"Accept": "audio/wav"})
        # then the bytes are an object under the prefix, and come back
        stored = s3.get_object(Bucket="vpbx-audio", Key=f"tenants/{audio['blob_key']}")["Body"].read()
        assert stored == WAV and download.body == WAV
        assert api.delete(f"/audio/{audio['id']}").status_code == 204
        assert s3.list_objects_v2(Bucket="vpbx-audio").get("KeyCount", 0) == 0
    blobs._stores.pop("s3://vpbx-audio/tenants", None)  # its client belonged to the mock

"""``vpbx fax decode`` on pcap/pcapng captures, and delivery through SMTP and SES (moto)."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path

import boto3
import numpy as np
import pytest
from moto import mock_aws
from PIL import Image

from media_core.blobstore import LocalBlobStore
from media_core.fax.capture import decode_datagrams
from media_core.fax.cli import main
from media_core.fax.delivery import FaxDelivery, FaxSessionInfo, SesMailer
from media_core.fax.render import render
from tests.fax import spandsp_sessions as ss


@pytest.fixture(scope="module")
def ecm_capture_ifps(source_tiffs, tmp_path_factory):
    ifps, _ = ss.run_session(
        source_tiffs["fine"], tmp_path_factory.mktemp("cli"), True, ss.T6 | ss.T4_1D, version=1
    )
    return ifps


@pytest.mark.parametrize("ng", [False, True])
def test_decode_writes_tiff_pdf_and_pngs_from_a_two_way_capture(
    ecm_capture_ifps, source_tiffs, tmp_path, capsys, ng
) -> None:
    # given a capture holding both directions of a T.38 v1 ECM session
    cap = tmp_path / ("fax.pcapng" if ng else "fax.pcap")
    ss.write_capture(cap, ss.both_directions(ecm_capture_ifps, redundancy=2), ng=ng)
    # when decoded from the command line
    assert main(["decode", str(cap), "-o", str(tmp_path / "out")]) == 0
    # then a one-line summary names what was received
    line = capsys.readouterr().out.strip()
    assert line.startswith("pages=3 resolution=fine encoding=MMR ecm=yes remote_id=+1 555 0100")
    out = tmp_path / "out"
    got = ss.black_pixels(out / "fax.tiff")
    want = ss.black_pixels(source_tiffs["fine"])
    assert len(got) == 3 and all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))
    assert Image.open(out / "fax.tiff").info["dpi"] == (204, 196)
    assert (out / "fax.pdf").read_bytes().startswith(b"%PDF")
    png = Image.open(out / "page-1.png")
    assert png.size == (1728, round(1100 * 204 / 196))  # square pels: A4 keeps its shape on screen


def test_standard_resolution_pdf_has_a4_aspect(source_tiffs, tmp_path) -> None:
    ifps, _ = ss.run_session(source_tiffs["standard"], tmp_path, False, ss.T4_1D)
    doc = decode_datagrams([d for _, d in ss.udptl_stream(ifps)])
    rendered = render(doc)
    pdf = rendered.pdf.decode("latin-1")
    # 1728 pels at 204 dpi = 609.9 pt wide; 1100 rows at 98 dpi = 808.2 pt high (pels are twice as tall)
    assert "/MediaBox [0 0 609.88235 808.16327]" in pdf or "609.882" in pdf and "808.163" in pdf
    assert Image.open(io.BytesIO(rendered.pngs[0])).size == (1728, round(1100 * 204 / 98))


def test_module_entry_point_and_bad_input(tmp_path) -> None:
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture at all")
    res = subprocess.run(
        [sys.executable, "-m", "media_core.fax", "decode", str(junk), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2 and "not a pcap or pcapng file" in res.stderr


def test_capture_without_fax_is_an_error_not_a_crash(tmp_path) -> None:
    cap = tmp_path / "sip.pcap"
    ss.write_capture(cap, [(True, b"INVITE sip:1@x SIP/2.0\r\n\r\n")])
    assert main(["decode", str(cap), "-o", str(tmp_path / "o")]) == 2


@mock_aws
def test_ses_delivery_sends_the_pdf(source_tiffs, tmp_path) -> None:
    # given SES (moto) with a verified sender, and a decoded fax
    ses = boto3.client("ses", region_name="eu-west-1")
    ses.verify_email_identity(EmailAddress="fax@vpbx.test")
    ifps, _ = ss.run_session(source_tiffs["standard"], tmp_path, False, ss.T4_1D)
    doc = decode_datagrams([d for _, d in ss.udptl_stream(ifps)])

    async def inline(fn):
        return fn()

    delivery = FaxDelivery(
        blobs=LocalBlobStore(tmp_path / "b"),
        mailer=SesMailer(ses),
        mail_from="fax@vpbx.test",
        backend_url=None,
        token=None,
        render=render,
        run_blocking=inline,
        now=lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        new_id=lambda: "id-1",
    )
    # when delivered
    event = asyncio.run(delivery.deliver(FaxSessionInfo("t9", "CA9", "bob@example.test"), doc))
    # then SES sent one raw mail with the PDF, and the event names the stored blobs
    assert (
        event is not None and event["occurred_at"] == "2026-01-02T03:04:05Z" and event["event_id"] == "id-1"
    )
    assert (
        event["data"]["blob_keys"]["pdf"] == "fax/t9/CA9/fax.pdf"
        and event["data"]["resolution"] == "standard"
    )
    from moto.backends import get_backend

    sent = get_backend("ses")["123456789012"]["eu-west-1"].sent_messages
    assert len(sent) == 1
    mail = message_from_bytes(
        sent[0].raw_data.encode() if isinstance(sent[0].raw_data, str) else sent[0].raw_data
    )
    assert mail["To"] == "bob@example.test"
    assert any(p.get_content_type() == "application/pdf" for p in mail.walk())


def test_fax_without_pages_is_not_delivered(tmp_path) -> None:
    from media_core.fax.document import FaxDocument

    async def inline(fn):
        return fn()

    delivery = FaxDelivery(
        blobs=LocalBlobStore(tmp_path),
        mailer=None,
        mail_from="x@y",
        backend_url=None,
        token=None,
        render=render,
        run_blocking=inline,
    )
    assert asyncio.run(delivery.deliver(FaxSessionInfo("t", "c", None), FaxDocument((), "", False))) is None
    assert not any(Path(tmp_path).iterdir())

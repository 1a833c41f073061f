"""Fax sessions produced by a real, independent stack: spandsp's T.38 terminal as the sender.

The C helper (spandsp_loopback.c) is compiled on first use into var/fax-helper/ (keyed by a hash of
its source) and runs sender and receiver back to back in simulated time; this module turns its IFP
log into UDPTL datagrams (with redundancy, FEC, repeats, loss) and pcap/pcapng captures.
"""

from __future__ import annotations

import hashlib
import os
import random
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageSequence

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SOURCE = HERE / "spandsp_loopback.c"
UDP_SOURCE = HERE / "spandsp_udp_sender.c"

T4_1D, T4_2D, T6 = 2, 4, 8  # T30_SUPPORT_*_COMPRESSION


def helper(source: Path = SOURCE) -> Path:
    """Compile (once per source version) and return the helper binary."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    exe = ROOT / "var" / "fax-helper" / f"{source.stem}-{digest}"
    if not exe.exists():
        exe.parent.mkdir(parents=True, exist_ok=True)
        flags = subprocess.run(
            ["pkg-config", "--cflags", "--libs", "spandsp"], check=True, capture_output=True, text=True
        ).stdout.split()
        tmp = exe.with_name(f"{exe.name}.{os.getpid()}.tmp")  # pytest-xdist workers may build at once
        subprocess.run(["gcc", "-O1", "-o", str(tmp), str(source), *flags, "-ltiff"], check=True)
        tmp.replace(exe)
    return exe


def make_pages(n: int, rows: int, seed: int = 1, width: int = 1728) -> list[Image.Image]:
    """Pages of text and boxes (mode 1, white = 1) that exercise every T.4 code path."""
    pages = []
    for i in range(n):
        r = random.Random(seed * 1000 + i)
        im = Image.new("1", (width, rows), 1)
        d = ImageDraw.Draw(im)
        for _ in range(50):
            x, y = r.randrange(width - 30), r.randrange(rows - 30)
            d.rectangle([x, y, x + r.randrange(1, 300), y + r.randrange(1, 60)], fill=0)
        for _ in range(80):
            d.text(
                (r.randrange(width - 200), r.randrange(rows - 15)),
                f"Page {i + 1} line {r.randrange(10**6)}",
                fill=0,
            )
        d.line([0, 0, width - 1, rows - 1], fill=0, width=3)
        pages.append(im)
    return pages


def write_tiff(pages: list[Image.Image], path: Path, fine: bool = True) -> None:
    pages[0].save(
        path, save_all=True, append_images=pages[1:], compression="group4", dpi=(204, 196 if fine else 98)
    )


def black_pixels(path: Path) -> list[np.ndarray]:
    """Pages of a TIFF as decoder-convention arrays (1 = black)."""
    return [(~np.array(p.convert("1"))).astype(np.uint8) for p in ImageSequence.Iterator(Image.open(path))]


@dataclass(frozen=True)
class Ifp:
    direction: str  # "S" sender->receiver, "R" receiver->sender, "X" sender packet spandsp dropped
    seq: int
    count: int
    data: bytes


def run_session(
    tx: Path,
    workdir: Path,
    ecm: bool,
    compressions: int,
    version: int = 0,
    drop_every: int = 0,
    start_seq: int = 0,
) -> tuple[list[Ifp], str]:
    out = workdir / "ifp.txt"
    res = subprocess.run(
        [
            str(helper()),
            str(tx),
            str(workdir / "rx.tif"),
            str(out),
            str(int(ecm)),
            str(compressions),
            str(version),
            str(drop_every),
            str(start_seq),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if res.returncode != 0:
        raise RuntimeError(f"spandsp session failed: {res.stdout} {res.stderr}")
    ifps = []
    for line in out.read_text().splitlines():
        d, s, c, h = line.split()
        ifps.append(Ifp(d, int(s), int(c), bytes.fromhex(h)))
    return ifps, res.stdout.strip()


def _open_type(b: bytes) -> bytes:
    n = len(b)
    return (bytes([n]) if n < 0x80 else bytes([0x80 | (n >> 8), n & 0xFF])) + b


def udptl_stream(
    ifps: list[Ifp],
    direction: str = "S",
    redundancy: int = 0,
    fec: tuple[int, int] | None = None,
    repeats: bool = True,
) -> list[tuple[int, bytes]]:
    """(seq, datagram) as a FreeSWITCH-like gateway would send them: repeats as identical datagrams.

    X packets (dropped inside the loopback) keep their sequence number but are not sent.
    """
    history: list[tuple[int, bytes]] = []
    out = []
    for ifp in ifps:
        if ifp.direction not in (direction, "X" if direction == "S" else "?"):
            continue
        dg = bytes([ifp.seq >> 8, ifp.seq & 0xFF]) + _open_type(ifp.data)
        if fec is None:
            older = [d for _, d in history[:redundancy]]
            dg += b"\x00" + bytes([len(older)]) + b"".join(_open_type(o) for o in older)
        else:
            span, entries = fec
            dg += b"\x80\x01" + bytes([span, entries])
            by_seq = dict(history)
            for m in range(entries):
                limit = ifp.seq + m
                covered = [k & 0xFFFF for k in range(limit - span * entries, limit, entries)]
                parts = [by_seq.get(k, b"") for k in covered]
                length = max((len(p) for p in parts), default=0)
                parity = bytearray(length)
                for p in parts:
                    for i, b in enumerate(p):
                        parity[i] ^= b
                dg += _open_type(bytes(parity))
        history.insert(0, (ifp.seq, ifp.data))
        del history[64:]
        if ifp.direction != "X":
            out.extend([(ifp.seq, dg)] * (ifp.count if repeats else 1))
    return out


def _eth_udp(src: tuple[str, int], dst: tuple[str, int], payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(udp),
        0,
        0,
        64,
        17,
        0,
        bytes(map(int, src[0].split("."))),
        bytes(map(int, dst[0].split("."))),
    )
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip + udp


GATEWAY, MEDIA = ("10.0.0.1", 40000), ("10.0.0.2", 5004)


def write_capture(path: Path, packets: list[tuple[bool, bytes]], ng: bool = False) -> None:
    """packets: (from_sender, udp payload). Sender = GATEWAY -> MEDIA."""
    frames = [_eth_udp(GATEWAY, MEDIA, p) if s else _eth_udp(MEDIA, GATEWAY, p) for s, p in packets]
    with path.open("wb") as f:
        if not ng:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for i, fr in enumerate(frames):
                f.write(struct.pack("<IIII", i // 50, (i % 50) * 20000, len(fr), len(fr)) + fr)
            return
        shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
        f.write(struct.pack("<II", 0x0A0D0D0A, 12 + len(shb)) + shb + struct.pack("<I", 12 + len(shb)))
        idb = struct.pack("<HHI", 1, 0, 65535)
        f.write(struct.pack("<II", 1, 12 + len(idb)) + idb + struct.pack("<I", 12 + len(idb)))
        for i, fr in enumerate(frames):
            pad = fr + b"\x00" * (-len(fr) % 4)
            body = struct.pack("<IIIII", 0, 0, i * 20000, len(fr), len(fr)) + pad
            f.write(struct.pack("<II", 6, 12 + len(body)) + body + struct.pack("<I", 12 + len(body)))


def both_directions(ifps: list[Ifp], redundancy: int = 0) -> list[tuple[bool, bytes]]:
    """Interleave both directions in log order, each as its own UDPTL stream."""
    s = iter(udptl_stream(ifps, "S", redundancy))
    r = iter(udptl_stream(ifps, "R", redundancy))
    out: list[tuple[bool, bytes]] = []
    for ifp in ifps:
        src = s if ifp.direction == "S" else r if ifp.direction == "R" else None
        if src is not None:
            for _ in range(ifp.count):
                out.append((ifp.direction == "S", next(src)[1]))
    return out

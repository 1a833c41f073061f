"""Media benchmarks: mixer vs numpy, media server over loopback UDP, encrypted recording.

Run: ``.venv/bin/python bench/bench_media.py`` (about a minute; loopback traffic only, bounded loops).
Figures are "participants (or calls) per core in real time": how many 20 ms streams one core
could serve, computed as streams x wall time / CPU time used, all measured in this run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from media_core import mix  # noqa: E402
from media_core.envelope import TenantKeyring  # noqa: E402
from media_core.g711 import ALAW_DECODE_TABLE, ALAW_ENCODE_TABLE, ULAW_DECODE_TABLE, ULAW_ENCODE_TABLE  # noqa: E402
from media_core.kernels import (  # noqa: E402
    _decode_rows_kernel,
    _encode_rows_kernel,
    _g711_mix_minus_rooms_kernel,
)
from media_core.mixer import listen_hears, mix_minus_hears, plan_mix  # noqa: E402
from media_core.recording import RecordingWriter  # noqa: E402
from media_core.rtp import PT_PCMU, build_rtp  # noqa: E402

FRAME_S = 0.02
N = 160


def _best_time(fn, repeats: int, rounds: int = 5) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - t0) / repeats)
    return best


def numpy_mix_minus(frames: np.ndarray) -> np.ndarray:
    total = frames.sum(axis=0, dtype=np.int32)
    return np.clip(total[None, :] - frames, -32768, 32767).astype(np.int16)


def numpy_g711_mix(codes: np.ndarray) -> np.ndarray:
    pcm = ULAW_DECODE_TABLE[codes]
    return ULAW_ENCODE_TABLE[numpy_mix_minus(pcm).astype(np.int32) + 32768]


def numba_g711_mix(codes: np.ndarray) -> np.ndarray:
    p = codes.shape[0]
    alaw = np.zeros(p, np.bool_)
    pcm = np.empty((p, N), np.int16)
    _decode_rows_kernel(codes, alaw, ULAW_DECODE_TABLE, ULAW_DECODE_TABLE, pcm)
    out = np.empty((p, N), np.uint8)
    _encode_rows_kernel(mix(pcm), alaw, ULAW_ENCODE_TABLE, ULAW_ENCODE_TABLE, out)
    return out


def bench_mixer() -> dict[str, float]:
    print("== mixer: 20 ms frames (160 samples), mix-minus, one core")
    rng = np.random.default_rng(0)
    results: dict[str, float] = {}
    print(f"{'room':>6} {'path':<22} {'us/frame':>9} {'participants/core':>18} {'numpy':>12} {'ratio':>7}")
    for p in (5, 50, 500):
        frames = (rng.standard_normal((p, N)) * 3000).astype(np.int16)
        codes = ULAW_ENCODE_TABLE[frames.astype(np.int32) + 32768]
        assert np.array_equal(mix(frames), numpy_mix_minus(frames))
        assert np.array_equal(numba_g711_mix(codes), numpy_g711_mix(codes))
        reps = max(20, 20000 // p)
        for label, ours, theirs in (
            ("pcm int16", lambda f=frames: mix(f), lambda f=frames: numpy_mix_minus(f)),
            ("g711 decode+mix+encode", lambda c=codes: numba_g711_mix(c), lambda c=codes: numpy_g711_mix(c)),
        ):
            t_ours, t_np = _best_time(ours, reps), _best_time(theirs, reps)
            per_core, per_core_np = p * FRAME_S / t_ours, p * FRAME_S / t_np
            print(
                f"{p:>6} {label:<22} {t_ours * 1e6:>9.1f} {per_core:>18,.0f} {per_core_np:>12,.0f} {t_np / t_ours:>6.1f}x"
            )
            results[f"{label}/{p}"] = per_core
            results[f"{label}/{p}/ratio"] = t_np / t_ours
    rooms, size = 200, 5  # what the server does per tick: every plain room in one kernel call
    codes = ULAW_ENCODE_TABLE[(rng.standard_normal((rooms * size, N)) * 3000).astype(np.int32) + 32768]
    starts = np.arange(0, rooms * size + 1, size, dtype=np.int64)
    alaw = np.zeros(rooms * size, np.bool_)
    total, out = np.zeros(N, np.int32), np.empty_like(codes)

    def batched() -> None:
        _g711_mix_minus_rooms_kernel(
            codes,
            alaw,
            starts,
            ULAW_DECODE_TABLE,
            ALAW_DECODE_TABLE,
            ULAW_ENCODE_TABLE,
            ALAW_ENCODE_TABLE,
            total,
            out,
        )

    batched()
    assert np.array_equal(out[:size], numpy_g711_mix(codes[:size]))
    t_b = _best_time(batched, 200)
    t_np = _best_time(lambda: [numpy_g711_mix(codes[k : k + size]) for k in range(0, rooms * size, size)], 20)
    print(
        f"{size:>6} {'g711 batched, 200 rooms':<22} {t_b * 1e6 / rooms:>9.1f} {rooms * size * FRAME_S / t_b:>18,.0f} "
        f"{rooms * size * FRAME_S / t_np:>12,.0f} {t_np / t_b:>6.1f}x  (us per room)"
    )
    results["g711 batched/5"] = rooms * size * FRAME_S / t_b
    p = 50
    frames = (rng.standard_normal((p, N)) * 3000).astype(np.int16)
    hears = listen_hears(listen_hears(mix_minus_hears(p), 0), 1)
    plan = plan_mix(hears)
    t_plan = _best_time(lambda: mix(frames, plan), 400)
    h64 = hears.astype(np.float32)
    t_np = _best_time(
        lambda: np.clip(np.rint(h64 @ frames.astype(np.float32)), -32768, 32767).astype(np.int16), 400
    )
    print(
        f"{p:>6} {'2 supervisors (plan)':<22} {t_plan * 1e6:>9.1f} {p * FRAME_S / t_plan:>18,.0f} "
        f"{p * FRAME_S / t_np:>12,.0f} {t_np / t_plan:>6.1f}x  (numpy: dense float32 matmul)"
    )
    return results


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(base: str, method: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
    req = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return dict(json.loads(resp.read()))


def bench_server(participants: int, room_size: int = 5, seconds: float = 4.0) -> tuple[float, bool]:
    tmp = tempfile.mkdtemp(prefix="bench-media-")
    port = _free_port()
    env = dict(
        os.environ,
        VPBX_TENANT_KEYS_DIR=f"{tmp}/keys",
        VPBX_MEDIA_SPOOL_DIR=f"{tmp}/spool",
        VPBX_BLOB_DIR=f"{tmp}/blobs",
        VPBX_BACKEND_URL="",
        PYTHONPATH=str(ROOT),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "media_core.server", "--port", str(port), "--log-level", "WARNING"],
        env=env,
        cwd=tmp,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):  # bounded: up to 60 s for imports and kernel warm-up on a loaded machine
            try:
                _http(base, "GET", "/health")
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"media server on port {port} did not come up within 60 s")
        ports = []
        for r in range(participants // room_size):
            _http(base, "POST", "/rooms", {"name": f"room{r}", "tenant_id": "bench"})
            for k in range(room_size):
                ports.append(
                    int(
                        _http(base, "POST", f"/rooms/room{r}/participants", {"participant_id": f"p{k}"})[
                            "rtp_port"
                        ]
                    )
                )
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:  # room for a whole tick of replies; FORCE needs root, else the kernel caps at rmem_max
            sock.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        payload = (np.random.default_rng(1).integers(0, 256, 160)).astype(np.uint8).tobytes()
        targets = [("127.0.0.1", p) for p in ports]
        size = 12 + len(payload)
        packets = np.zeros((len(targets), size), np.uint8)
        packets[:, 0], packets[:, 1], packets[:, 12:] = 0x80, PT_PCMU, np.frombuffer(payload, np.uint8)
        packets[:, 8:12] = np.arange(len(targets), dtype=">u4").view(np.uint8).reshape(-1, 4)  # SSRC = i
        warm, total_ticks = int(1.0 / FRAME_S), int((1.0 + seconds) / FRAME_S)
        received = late_ticks = 0
        start = time.monotonic()
        cpu0 = wall0 = 0.0
        for tick in range(total_ticks):  # bounded: (1 + seconds) / 20 ms ticks
            if tick == warm:
                h0 = _http(base, "GET", "/health")
                cpu0, wall0, received = _cpu_seconds(server.pid), time.monotonic(), 0
            # the same datagrams as build_rtp(PT_PCMU, tick, tick * 160, i, payload), made in one
            # numpy step: a client building each in Python could not keep 5,000 streams on time
            packets[:, 2:4] = np.frombuffer((tick & 0xFFFF).to_bytes(2, "big"), np.uint8)
            packets[:, 4:8] = np.frombuffer((tick * 160 & 0xFFFFFFFF).to_bytes(4, "big"), np.uint8)
            blob = memoryview(packets.tobytes())
            assert blob[:size] == build_rtp(PT_PCMU, tick, tick * 160, 0, payload)
            for i, addr in enumerate(targets):
                sock.sendto(blob[i * size : (i + 1) * size], addr)
            while True:  # count what comes back (drain without blocking)
                try:
                    sock.recv(2048)
                    received += 1
                except BlockingIOError:
                    break
            if tick >= warm:  # the client's own lateness: a late client shows up as concealment
                late_ticks += time.monotonic() > start + (tick + 1) * FRAME_S
            time.sleep(max(0.0, start + (tick + 1) * FRAME_S - time.monotonic()))
        cpu, wall = _cpu_seconds(server.pid) - cpu0, time.monotonic() - wall0
        h1 = _http(base, "GET", "/health")

        def delta(k: str) -> int:
            return int(h1[k]) - int(h0[k])  # type: ignore[call-overload]

        expected = participants * wall / FRAME_S
        served = min(delta("rtp_packets_in"), delta("rtp_packets_out"))  # participant-frames actually mixed
        per_core = served * FRAME_S / cpu  # participant-seconds of real-time media per CPU-second
        real_time = served >= 0.99 * expected and delta("skipped_ticks") == 0
        print(
            f"{participants:>6} in rooms of {room_size}: server {cpu / wall:4.2f} cores -> {per_core:>6,.0f} "
            f"participants/core | server got {delta('rtp_packets_in') / expected:6.1%}, sent "
            f"{delta('rtp_packets_out') / expected:6.1%} of real time, client got {received / expected:6.1%}, "
            f"concealed {delta('rtp_frames_concealed') / expected:5.2%}, skipped ticks {delta('skipped_ticks')}"
            f"{'' if real_time else '  [NOT real time: machine overloaded?]'}"
        )
        busy = {k: float(v) - float(h0["tick_busy_s"][k]) for k, v in h1["tick_busy_s"].items()}  # type: ignore[index,union-attr]
        frames = max(served, 1)
        print(
            "       server per participant-frame: "
            + ", ".join(f"{k} {v / frames * 1e6:.2f} us" for k, v in busy.items())
            + f", whole process {cpu / frames * 1e6:.2f} us CPU; client overran {late_ticks} of "
            f"{total_ticks - warm} ticks"
        )
        return per_core, real_time
    finally:
        server.terminate()
        server.wait(10)


def bench_recording(calls: int = 1000, seconds: float = 3.0) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="bench-rec-"))
    keyring = TenantKeyring(tmp / "keys")
    frame = (np.random.default_rng(2).standard_normal(N) * 3000).astype(np.int16)
    writers = [RecordingWriter(tmp / f"c{k}.vrec", keyring, "bench", channels=1) for k in range(calls)]
    ticks = int(seconds / FRAME_S)
    t0 = time.process_time()
    for _ in range(ticks):
        for w in writers:
            w.write(frame)
    for w in writers:
        w.close()
    cpu = time.process_time() - t0
    per_core = calls * seconds / cpu
    print(
        f"== recording: {calls} calls x {seconds:.0f} s mono, encrypted (AES-256-GCM, 1 s chunks): "
        f"{cpu:.2f} s CPU -> {per_core:,.0f} recorded calls/core (target 10,000)"
    )
    return per_core


def main() -> int:
    t0 = time.time()
    mixer = bench_mixer()
    print(
        f"   target: >= 50,000 participants/core and >= 4x numpy; "
        f"conference of 50 (pcm): {mixer['pcm int16/50']:,.0f}/core, {mixer['pcm int16/50/ratio']:.1f}x"
    )
    print("== media server over loopback UDP (PCMU, 20 ms), CPU of the server process")
    server = [bench_server(p) for p in (500, 1500, 3000)]  # 3,000: the target load itself, in real time
    kept_up = [per_core for per_core, real_time in server if real_time]
    best = f"{max(kept_up):,.0f}" if kept_up else "n/a (no run kept real time)"
    print(f"   target: >= 3,000 participants/core; best measured in real time {best}")
    bench_recording()
    print(f"(bench took {time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Tones through the mixer: who hears what, within tolerance, and saturation."""

from __future__ import annotations

import numpy as np
import pytest

from media_core import mix
from media_core.mixer import (
    barge_hears,
    gain_hears,
    listen_hears,
    mix_minus_hears,
    mute_hears,
    plan_mix,
    whisper_hears,
)
from tests.media.signals import goertzel_amplitude, sweep, tone

N = 1600  # 200 ms: Goertzel bins at 5 Hz, so the tones below are orthogonal
FREQS = [300.0, 500.0, 700.0, 900.0, 1100.0, 1300.0]
AMP = 4000.0


def _room(p: int) -> np.ndarray:
    return np.stack([tone(FREQS[i], N, AMP) for i in range(p)])


def _heard(out_row: np.ndarray, talker: int) -> float:
    return goertzel_amplitude(out_row, FREQS[talker]) / AMP


def test_mix_minus_everyone_hears_everyone_but_themselves() -> None:
    out = mix(_room(5))
    for listener in range(5):
        for talker in range(5):
            expected = 0.0 if listener == talker else 1.0
            assert _heard(out[listener], talker) == pytest.approx(expected, abs=0.01)


def test_default_equals_explicit_mix_minus_matrix_bit_for_bit() -> None:
    frames = np.random.default_rng(7).integers(-30000, 30000, (9, 160)).astype(np.int16)
    np.testing.assert_array_equal(mix(frames), mix(frames, mix_minus_hears(9)))


def test_matches_a_float64_matrix_product_with_saturation() -> None:
    rng = np.random.default_rng(3)
    frames = rng.integers(-32768, 32767, (12, 160)).astype(np.int16)
    hears = rng.uniform(-1.5, 1.5, (12, 12)).astype(np.float32)
    expected = np.clip(np.rint(hears.astype(np.float64) @ frames.astype(np.float64)), -32768, 32767)
    assert np.abs(mix(frames, hears).astype(np.float64) - expected).max() <= 2  # float32 accumulation


def test_saturates_instead_of_wrapping() -> None:
    frames = np.full((4, 160), 20000, np.int16)
    frames[3] = -20000
    out = mix(frames)
    assert out[3].tolist() == [32767] * 160  # 60,000 clips high
    assert out[0].tolist() == [20000] * 160  # 20000 + 20000 - 20000
    frames[:] = -32768
    assert mix(frames)[0].tolist() == [-32768] * 160


def test_mix_minus_skips_silent_rows_and_sums_talkers_in_any_count() -> None:
    # 0..7 talkers among 11 legs: the four-row and one-row sums and the silent-row skip all
    # have to agree with numpy's int64 reference, bit for bit.
    rng = np.random.default_rng(11)
    for talkers in range(8):
        frames = np.zeros((11, 160), np.int16)
        rows = rng.choice(11, talkers, replace=False)
        frames[rows] = rng.integers(-32768, 32767, (talkers, 160))
        frames[rows[:1], :5] = 0  # a talker whose frame starts in silence is still a talker
        total = frames.astype(np.int64).sum(axis=0)
        expected = np.clip(total[None, :] - frames, -32768, 32767).astype(np.int16)
        np.testing.assert_array_equal(mix(frames), expected)


def test_large_integer_gains_in_a_large_room_saturate_instead_of_overflowing() -> None:
    # 1000 x 32767 x 100 does not fit in int32: such a plan must not take the exact int32 path.
    frames = np.full((100, 160), 32767, np.int16)
    hears = np.zeros((100, 100), np.float32)
    hears[0, :] = 1000.0
    hears[1, :] = -1000.0
    out = mix(frames, hears)
    assert out[0].tolist() == [32767] * 160
    assert out[1].tolist() == [-32768] * 160
    assert out[2].tolist() == [0] * 160


def test_supervisor_listen_hears_everyone_and_is_heard_by_nobody() -> None:
    hears = listen_hears(mix_minus_hears(5), supervisor=4)
    out = mix(_room(5), hears)
    for talker in range(4):
        assert _heard(out[4], talker) == pytest.approx(1.0, abs=0.01)
    for listener in range(4):
        assert _heard(out[listener], 4) < 0.01


def test_whisper_is_heard_by_the_agent_only() -> None:
    hears = whisper_hears(mix_minus_hears(5), supervisor=4, agent=1)
    out = mix(_room(5), hears)
    assert _heard(out[1], 4) == pytest.approx(1.0, abs=0.01)
    for listener in (0, 2, 3):
        assert _heard(out[listener], 4) < 0.01
        assert _heard(out[listener], 1) == pytest.approx(1.0, abs=0.01)  # the agent is still heard
    assert _heard(out[4], 0) == pytest.approx(1.0, abs=0.01)


def test_barge_after_listen_makes_the_supervisor_heard_by_all() -> None:
    hears = barge_hears(listen_hears(mix_minus_hears(5), 4), 4)
    out = mix(_room(5), hears)
    for listener in range(4):
        assert _heard(out[listener], 4) == pytest.approx(1.0, abs=0.01)
    assert _heard(out[4], 4) < 0.01


def test_muted_participant_is_heard_by_nobody_but_still_hears() -> None:
    out = mix(_room(5), mute_hears(mix_minus_hears(5), [2]))
    for listener in range(5):
        assert _heard(out[listener], 2) < 0.01
    assert _heard(out[2], 0) == pytest.approx(1.0, abs=0.01)


def test_per_participant_gain_scales_what_others_hear() -> None:
    out = mix(_room(4), gain_hears(mix_minus_hears(4), 1, 0.5))
    assert _heard(out[0], 1) == pytest.approx(0.5, abs=0.01)
    assert _heard(out[0], 2) == pytest.approx(1.0, abs=0.01)


def test_a_sweep_passes_through_the_mix_unchanged() -> None:
    frames = np.zeros((3, N), np.int16)
    frames[0] = sweep(200, 3400, N)
    out = mix(frames)
    np.testing.assert_array_equal(out[1], frames[0])
    np.testing.assert_array_equal(out[2], frames[0])
    assert not out[0].any()


def test_large_room_with_supervisors_keeps_corrections_sparse() -> None:
    p = 200
    hears = whisper_hears(listen_hears(mix_minus_hears(p), 0), 1, 5)
    plan = plan_mix(hears)
    assert plan.cols.size <= 3 * p  # diagonal + supervisor rows/columns, not P^2
    frames = np.random.default_rng(1).integers(-100, 100, (p, 160)).astype(np.int16)
    expected = np.clip(hears.astype(np.float64) @ frames, -32768, 32767)
    np.testing.assert_array_equal(mix(frames, plan), expected.astype(np.int16))


@pytest.mark.parametrize("p", [1, 2, 3])
def test_tiny_rooms(p: int) -> None:
    frames = np.random.default_rng(p).integers(-1000, 1000, (p, 160)).astype(np.int16)
    np.testing.assert_array_equal(mix(frames, mix_minus_hears(p)), mix(frames))
    assert not mix(frames[:1]).any()


def test_errors_name_the_bad_value() -> None:
    with pytest.raises(TypeError, match="float32"):
        mix(np.zeros((2, 160), np.float32))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        mix(np.zeros((2, 160), np.int16), np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="3 participants"):
        mix(np.zeros((2, 160), np.int16), np.zeros((3, 3), np.float32))
    bad = mix_minus_hears(3)
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"hears\[1, 2\]"):
        mix(np.zeros((3, 160), np.int16), bad)
    with pytest.raises(IndexError, match="index 7"):
        listen_hears(mix_minus_hears(3), 7)

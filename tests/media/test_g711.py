"""G.711 against Python's audioop and an independent transcription of the ITU-T G.191 reference."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from media_core import g711

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

EVERY_SAMPLE = np.arange(-32768, 32768, dtype=np.int16)
EVERY_CODE = np.arange(256, dtype=np.uint8)


def _ulaw_from_magnitude(absno: int, positive: bool) -> int:
    absno = min(absno, 0x1FFF)
    segno = 1 + (absno >> 6).bit_length()
    code = ((8 - segno) << 4) | (0x0F - ((absno >> segno) & 0x0F))
    return code | 0x80 if positive else code


def _g191_ulaw_compress(v: int) -> int:
    """ITU-T G.191 STL g711.c ``ulaw_compress``, written out independently in plain Python."""
    return _ulaw_from_magnitude(((~v) >> 2) + 33 if v < 0 else (v >> 2) + 33, v >= 0)


def test_alaw_encode_matches_audioop_for_all_65536_inputs() -> None:
    expected = np.frombuffer(audioop.lin2alaw(EVERY_SAMPLE.tobytes(), 2), np.uint8)
    np.testing.assert_array_equal(g711.alaw_encode(EVERY_SAMPLE), expected)


def test_ulaw_decode_and_alaw_decode_match_audioop_for_all_256_codes() -> None:
    np.testing.assert_array_equal(
        g711.ulaw_decode(EVERY_CODE), np.frombuffer(audioop.ulaw2lin(EVERY_CODE.tobytes(), 2), np.int16)
    )
    np.testing.assert_array_equal(
        g711.alaw_decode(EVERY_CODE), np.frombuffer(audioop.alaw2lin(EVERY_CODE.tobytes(), 2), np.int16)
    )


def test_ulaw_encode_matches_the_itu_g191_reference_for_all_65536_inputs() -> None:
    expected = np.array([_g191_ulaw_compress(int(v)) for v in EVERY_SAMPLE], np.uint8)
    np.testing.assert_array_equal(g711.ulaw_encode(EVERY_SAMPLE), expected)


def test_ulaw_encode_differs_from_audioop_only_where_audioop_rounds_negatives_the_other_way() -> None:
    # audioop shifts before negating, so a negative sample's 14-bit magnitude is ceil(|x|/4), one
    # more than G.191's one's complement floor((|x|-1)/4). That moves exactly 4 inputs across each of
    # the 127 inner decision levels of the negative half: 508 inputs, each one code away.
    ours = g711.ulaw_encode(EVERY_SAMPLE).astype(int)
    theirs = np.frombuffer(audioop.lin2ulaw(EVERY_SAMPLE.tobytes(), 2), np.uint8).astype(int)
    differ = ours != theirs
    predicted = np.array(
        [
            v < 0 and _ulaw_from_magnitude(((~v) >> 2) + 34, False) != _g191_ulaw_compress(v)
            for v in EVERY_SAMPLE.tolist()
        ]
    )
    assert int(differ.sum()) == 508
    np.testing.assert_array_equal(differ, predicted)
    assert set(np.abs(ours[differ] - theirs[differ]).tolist()) == {1}


@pytest.mark.parametrize(
    ("encode", "decode"), [(g711.ulaw_encode, g711.ulaw_decode), (g711.alaw_encode, g711.alaw_decode)]
)
def test_every_code_survives_decode_then_encode(encode: object, decode: object) -> None:
    codes = EVERY_CODE
    back = encode(decode(codes))  # type: ignore[operator]
    # mu-law 0x7F is "negative zero": it decodes to 0 and comes back as 0xFF (positive zero).
    keep = codes != 0x7F
    np.testing.assert_array_equal(back[keep], codes[keep])


def test_silence_codes_decode_to_zero() -> None:
    assert g711.ulaw_decode(np.array([0xFF, 0x7F], np.uint8)).tolist() == [0, 0]
    assert g711.ulaw_encode(np.zeros(1, np.int16))[0] == g711.ULAW_SILENCE
    assert abs(int(g711.alaw_decode(np.array([g711.ALAW_SILENCE], np.uint8))[0])) <= 8


def test_quantisation_error_of_a_tone_is_below_the_g711_step_size() -> None:
    x = (10000 * np.sin(2 * np.pi * 1000 * np.arange(800) / 8000)).astype(np.int16)
    for enc, dec in ((g711.ulaw_encode, g711.ulaw_decode), (g711.alaw_encode, g711.alaw_decode)):
        err = np.abs(dec(enc(x)).astype(int) - x)
        assert err.max() <= 512  # half of the largest step (1024) in the segment holding 10,000
        snr = 10 * np.log10(np.sum(x.astype(float) ** 2) / np.sum(err.astype(float) ** 2))
        assert snr > 33  # G.711 is about 38 dB SQNR for a loud tone


def test_rejects_the_wrong_dtype_naming_it() -> None:
    with pytest.raises(TypeError, match="float64"):
        g711.ulaw_encode(np.zeros(4))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="int16"):
        g711.alaw_decode(np.zeros(4, np.int16))  # type: ignore[arg-type]


def test_preserves_shape() -> None:
    x = np.zeros((3, 160), np.int16)
    assert g711.ulaw_encode(x).shape == (3, 160)
    assert g711.alaw_decode(g711.alaw_encode(x)).shape == (3, 160)

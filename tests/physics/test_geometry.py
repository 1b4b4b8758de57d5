"""Shapes, SDFs and the shape readers, including fuzzing of the readers."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowlearn.physics import body_files, geometry
from flowlearn.physics.geometry import ShapeError


def test_circle_sdf_exact():
    c = geometry.circle((1.0, 2.0), 0.5)
    pts = np.array([[1.0, 2.0], [2.0, 2.0], [1.0, 2.5]])
    np.testing.assert_allclose(c.sdf(pts), [-0.5, 0.5, 0.0])


def test_polygon_sdf_of_square_is_exact():
    sq = geometry.polygon(np.array([[0, 0], [1, 0], [1, 1], [0, 1]]))
    pts = np.array([[0.5, 0.5], [2.0, 0.5], [2.0, 2.0], [0.5, 0.9], [-1.0, 0.5]])
    np.testing.assert_allclose(sq.sdf(pts), [-0.5, 1.0, np.sqrt(2), -0.1, 1.0], atol=1e-12)
    # orientation does not matter
    sq_cw = geometry.polygon(np.array([[0, 0], [0, 1], [1, 1], [1, 0]]))
    np.testing.assert_allclose(sq_cw.sdf(pts), sq.sdf(pts))


def test_polygon_of_many_sides_approaches_circle():
    t = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    poly = geometry.polygon(np.stack([np.cos(t), np.sin(t)], axis=1))
    circ = geometry.circle((0, 0), 1.0)
    rng = np.random.default_rng(0)
    pts = rng.uniform(-2, 2, size=(500, 2))
    np.testing.assert_allclose(poly.sdf(pts), circ.sdf(pts), atol=1e-3)


def test_naca_airfoil_thickness_and_sign():
    foil = geometry.naca4("0012", chord=1.0)
    lo, hi = foil.bounds
    assert hi[0] - lo[0] == pytest.approx(1.0, abs=1e-6)
    assert hi[1] - lo[1] == pytest.approx(0.12, abs=2e-3)
    assert foil.sdf(np.array([[0.3, 0.0]]))[0] < 0
    assert foil.sdf(np.array([[0.3, 0.2]]))[0] > 0
    cambered = geometry.naca4("2412", angle_deg=5.0)
    assert cambered.name == "NACA 2412"
    with pytest.raises(ShapeError, match="4 digits"):
        geometry.naca4("24a2")


def test_mask_to_sdf_of_disc():
    n = 64
    yy, xx = np.mgrid[0:n, 0:n] + 0.5
    r = np.hypot(xx - 32, yy - 32)
    sdf = geometry.mask_to_sdf(r < 10)
    # staircase body: within about a cell of the true distance
    assert np.max(np.abs(sdf - (r - 10))) < 1.0


@pytest.mark.parametrize(
    ("mask", "message"),
    [(np.zeros((8, 8), bool), "no solid"), (np.ones((8, 8), bool), "no fluid")],
)
def test_masks_without_solid_or_fluid_are_refused(mask, message):
    with pytest.raises(ShapeError, match=message):
        geometry.mask_to_sdf(mask)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("x,y\n", "empty"),
        ("0,0\n1,0\n1,1\n0,1\n", "not closed"),
        ("0,0\n1,1\n1,0\n0,1\n0,0\n", "self-intersecting"),
        ("0,0\n1,0\nabc,1\n0,0\n", "not a pair of numbers"),
        ("0,0\n1,0\n0,0\n", "at least 3"),
        ("0,0,1\n", "2 columns"),
        ("0,0\n1,1\n2,2\n0,0\n", "zero area"),
        ("0,0\nnan,1\n1,0\n0,0\n", "NaN"),
    ],
)
def test_polygon_csv_errors(text, message):
    with pytest.raises(ShapeError, match=message):
        body_files.read_polygon_csv(io.StringIO(text))


def test_polygon_csv_reads_closed_outline(tmp_path):
    path = tmp_path / "tri.csv"
    path.write_text("x,y\n0,0\n1,0\n0,1\n0,0\n", encoding="utf-8")
    shape = body_files.read_polygon_csv(path)
    assert shape.name == "tri"
    assert shape.sdf(np.array([[0.2, 0.2]]))[0] < 0


def test_shape_outside_domain_is_refused():
    c = geometry.circle((0.05, 0.2), 0.1)
    with pytest.raises(ShapeError, match="outside the domain"):
        c.check_inside((0, 0), (2.2, 0.41))


def test_png_mask_reader(tmp_path):
    from PIL import Image

    img = np.full((20, 30), 255, np.uint8)
    img[5:10, 8:12] = 0
    Image.fromarray(img).save(tmp_path / "m.png")
    mask = body_files.read_mask_png(tmp_path / "m.png")
    assert mask.shape == (20, 30) and mask.sum() == 20
    assert mask[::-1][5:10, 8:12].all()  # row 0 is the image bottom
    Image.fromarray(np.full((5, 5), 255, np.uint8)).save(tmp_path / "white.png")
    with pytest.raises(ShapeError, match="no solid"):
        body_files.read_mask_png(tmp_path / "white.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(ShapeError, match="cannot read image"):
        body_files.read_mask_png(tmp_path / "bad.png")


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(alphabet="0123456789.,-+eEnaixy \n\t#;\"'", max_size=200))
def test_fuzz_csv_reader_only_raises_shape_error(text):
    try:
        shape = body_files.read_polygon_csv(io.StringIO(text))
    except ShapeError:
        return
    assert np.isfinite(shape.sdf(np.array([[0.0, 0.0]]))).all()


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(-1e3, 1e3), st.sampled_from([np.nan, np.inf, 0.0, 1.0])),
            st.one_of(st.floats(-1e3, 1e3), st.sampled_from([np.nan, -np.inf, 0.0, 1.0])),
        ),
        max_size=12,
    )
)
def test_fuzz_csv_vertices(points):
    text = "\n".join(f"{x!r},{y!r}" for x, y in points)
    try:
        body_files.read_polygon_csv(io.StringIO(text))
    except ShapeError:
        pass


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_png_reader_only_raises_shape_error(data):
    try:
        body_files.read_mask_png(io.BytesIO(b"\x89PNG\r\n\x1a\n" + data))
    except ShapeError:
        pass


@FUZZ
@given(
    st.integers(1, 6),
    st.integers(1, 6),
    st.sampled_from(["L", "RGB", "RGBA", "1", "P", "I;16"]),
    st.integers(0, 2**32 - 1),
)
def test_fuzz_png_images_only_raise_shape_error(w, h, mode, seed):
    from PIL import Image

    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8)).convert(mode)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    buf.seek(0)
    try:
        mask = body_files.read_mask_png(buf)
    except ShapeError:
        return
    assert mask.dtype == bool and mask.any() and not mask.all()

"""flowlearn.data.rans: the reference RANS/DNS flows read right (conventions, signs, units,
geometry), found and verified by name, downloaded safely, and users' own tables and OpenFOAM
fields written and read back unchanged; every bad input named by file, column and count."""

from __future__ import annotations

import gzip
import io
import json
import shutil

import numpy as np
import pytest
from tests.conftest import shared_subfolder

from flowlearn.data import rans
from flowlearn.data.mnist import DataNotFoundError, DigestMismatchError

CHANNELS_RANS = ("channel_Re180", "channel_Re550", "channel_Re2000")


@pytest.fixture(scope="module")
def data():
    return shared_subfolder("rans")


@pytest.fixture(scope="module")
def flows(data):
    # the three k-epsilon channels hold k = 0 at their two wall-most points: drop_invalid
    return {name: rans.load_flow(name, data_dir=data, drop_invalid=True) for name in rans.FLOWS}


def _k_dns(flow):
    return np.trace(flow.tau, axis1=1, axis2=2) / 2


def _anisotropy(flow):
    return flow.tau / (2 * _k_dns(flow)[:, None, None]) - np.eye(3) / 3


def _small_flow(n=6, labels=True, coords=True):
    rng = np.random.default_rng(0)
    grad = rng.normal(size=(n, 3, 3))
    a = rng.normal(size=(n, 3, 3))
    tau = a @ a.transpose(0, 2, 1) if labels else None
    return rans.RansFlow(
        name="my_flow",
        kind="custom",
        k=rng.uniform(0.5, 2, n),
        epsilon=rng.uniform(0.5, 2, n),
        grad_u=grad,
        tau=tau,
        coords=rng.uniform(size=(n, 3)) if coords else None,
        wall_distance=rng.uniform(0.1, 1, n) if coords else None,
        meta={"source": "made in a test", "inputs": "k-epsilon", "re_tau": 100.0, "grid": [2, 3]},
        dropped={"k <= 0": 1},
    )


def _assert_same(a, b):
    for f in ("k", "epsilon", "grad_u", "tau", "coords", "wall_distance"):
        x, y = getattr(a, f), getattr(b, f)
        assert (x is None) == (y is None), f
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=f)
    assert (a.name, a.kind, a.dropped) == (b.name, b.kind, b.dropped)
    strip = {"source", "written_from"}
    assert {k: v for k, v in a.meta.items() if k not in strip} == {
        k: v for k, v in b.meta.items() if k not in strip
    }


# --------------------------------------------------------------------------------------------
# The reference flows


def test_every_named_flow_loads_verified_with_shapes_units_and_realizable_labels(flows):
    assert set(flows) == {
        "channel_Re180", "channel_Re550", "channel_Re2000", "channel_Re590",
        "duct_AR1_Re180", "duct_AR1_Re360", "duct_AR3_Re180", "duct_AR3_Re360",
        "duct_AR5_Re180", "duct_AR7_Re180", "duct_AR10_Re180", "duct_AR14_Re180",
        "hill_Re10595", "duct_pinelli_Reb3500",
    }  # fmt: skip
    rows = {"duct_AR1_Re180": 2209, "duct_AR14_Re180": 31819, "hill_Re10595": 15600,
            "duct_pinelli_Reb3500": 2500, "channel_Re590": 59, "channel_Re180": 43}  # fmt: skip
    for name, flow in flows.items():
        n = flow.n
        assert flow.name == name
        assert rows.get(name, n) == n
        assert flow.k.shape == flow.epsilon.shape == (n,)
        assert flow.grad_u.shape == flow.tau.shape == (n, 3, 3)
        for a in (flow.k, flow.epsilon, flow.grad_u, flow.tau):
            assert a.dtype == np.float64 and np.isfinite(a).all()
        assert (flow.k > 0).all() and (flow.epsilon > 0).all()
        np.testing.assert_array_equal(flow.tau, flow.tau.transpose(0, 2, 1))
        json.dumps(flow.meta)
        assert flow.meta["labels"] in ("DNS", "LES") or flow.meta["labels"].startswith("DNS")
        interior = flow.wall_distance > 0 if flow.wall_distance is not None else slice(1, None)
        assert (_k_dns(flow)[interior] > 0).all(), name
        ev = np.linalg.eigvalsh(_anisotropy(flow)[interior])
        inside = ((ev >= -1 / 3 - 1e-6) & (ev <= 2 / 3 + 1e-6)).all(axis=1)
        assert inside.mean() > 0.95, (name, inside.mean())
    assert flows["hill_Re10595"].meta["labels"] == "LES"
    assert flows["hill_Re10595"].meta["re_h"] == 10595
    assert flows["duct_AR3_Re360"].meta["re_tau"] == 360
    assert flows["duct_pinelli_Reb3500"].meta["re_b"] == 3500
    assert flows["channel_Re590"].meta["re_tau"] == 590


def test_mcconkey_names_gradients_and_inputs(flows, data):
    duct, hill = flows["duct_AR3_Re360"], flows["hill_Re10595"]
    assert duct.kind == "duct" and hill.kind == "hill"
    assert duct.meta["grid"] == [54, 162] and hill.meta["grid"] == [120, 130]
    assert np.all(duct.grad_u[:, :, 0] == 0)  # d/dx = 0 in the duct
    assert np.all(hill.grad_u[:, 2, :] == 0) and np.all(hill.grad_u[:, :, 2] == 0)
    assert "0.09 k omega" in duct.meta["inputs"]
    raw = rans.read_mcconkey(data / "mcconkey_benchmark" / "duct_AR_1_Ret_180.csv.gz")
    import pandas as pd

    frame = pd.read_csv(data / "mcconkey_benchmark" / "duct_AR_1_Ret_180.csv.gz", comment="#")
    np.testing.assert_allclose(raw.epsilon, 0.09 * frame.k_rans * frame.omega_rans)
    np.testing.assert_array_equal(raw.grad_u[:, 0, 2], frame.dUxdz_rans)
    np.testing.assert_array_equal(raw.grad_u[:, 2, 1], frame.dUzdy_rans)
    np.testing.assert_array_equal(raw.tau[:, 1, 2], frame.vw_dns)
    np.testing.assert_allclose(_k_dns(raw), frame.k_dns, rtol=1e-6)


@pytest.mark.parametrize(
    ("name", "aspect"),
    [("duct_AR1_Re180", 1.0), ("duct_AR3_Re360", 3.0), ("duct_AR14_Re180", 14.4)],
)
def test_duct_wall_distance_positive_and_smallest_at_the_walls(flows, name, aspect):
    flow = flows[name]
    y, z, d = flow.coords[:, 1], flow.coords[:, 2], flow.wall_distance
    # walls at y = 1 mm and z = AR mm (AR 14 is Vinuesa's 14.4), coordinates in metres
    assert flow.meta["walls"]["y"] == pytest.approx(1e-3, rel=1e-6)
    assert flow.meta["walls"]["z"] == pytest.approx(aspect * 1e-3, rel=1e-6)
    assert flow.meta["aspect_ratio"] == pytest.approx(aspect)
    assert (d > 0).all()
    next_to_wall = np.isclose(y, y.max()) | np.isclose(z, z.max())
    assert d[next_to_wall].max() < d[~next_to_wall].min()
    assert d.max() == pytest.approx(flow.meta["walls"]["y"] - y.min(), rel=1e-9)
    # the wall-most cells sit half a cell from their wall
    walls = flow.meta["walls"]
    assert d.min() == pytest.approx(min(walls["y"] - y.max(), walls["z"] - z.max()), rel=1e-9)
    last = np.sort(np.unique(np.round(y, 12)))[-2:]
    assert 0 < d.min() < 0.5 * (last[1] - last[0])


def test_pinelli_gradient_is_transposed_to_dUi_dxj(flows, data):
    flow = flows["duct_pinelli_Reb3500"]
    stream = flow.meta["streamwise_index"]
    assert flow.meta["streamwise"] == "x" and stream == 0
    g = np.abs(flow.grad_u)
    assert g[:, stream, :].sum() > 1e6 * g[:, :, stream].sum()  # row: d(U_stream)/d(cross)
    assert g[:, stream, :].sum() > 1e6 * g[:, 1:, 1:].sum()
    # the same gradient by finite differences of U on the 50 x 50 grid (y fastest)
    folder = data / "tbrf_pinelli_duct" / "rans_kOmega_Re3500"
    u = rans.read_foam_field(folder / "U")[:, 0].reshape(50, 50)
    c = flow.coords
    dudy = np.gradient(u, c[:50, 1], axis=1).ravel()
    dudz = np.gradient(u, c[::50, 2], axis=0).ravel()
    assert np.corrcoef(dudy, flow.grad_u[:, 0, 1])[0, 1] > 0.999
    assert np.corrcoef(dudz, flow.grad_u[:, 0, 2])[0, 1] > 0.999
    assert flow.meta["walls"]["y"] == pytest.approx(1.0, abs=1e-6)
    assert (flow.wall_distance > 0).all()


def test_channel_shear_stress_opposes_the_shear_in_every_source(flows, data):
    folder = data / "hoyas_jimenez_channel"
    sources = [flows[n] for n in (*CHANNELS_RANS, "channel_Re590")] + [
        rans.read_hoyas_channel(folder, r, inputs="dns") for r in (180, 550, 950, 2000)
    ]
    for flow in sources:
        off_wall = flow.wall_distance > 0 if flow.wall_distance is not None else slice(1, None)
        shear = flow.grad_u[off_wall, 0, 1] > 0
        b12 = _anisotropy(flow)[off_wall, 0, 1]
        assert shear.sum() > 0.9 * shear.size
        assert (b12[shear] < 0).all(), flow.name
    assert "negative" in flows["channel_Re180"].meta["uv_sign"]


def test_hoyas_rans_units_epsilon_and_wall_gradient(flows, data):
    folder = data / "hoyas_jimenez_channel"
    for name, re_tau in zip(CHANNELS_RANS, (180, 550, 2000), strict=True):
        flow = flows[name]
        dns = rans.read_hoyas_channel(folder, re_tau, inputs="dns")
        y = flow.wall_distance
        yplus = y * re_tau
        away = (yplus > 30) & (y < 0.8)
        ratio = flow.epsilon[away] / np.interp(y[away], dns.wall_distance, dns.epsilon)
        assert 0.5 < ratio.min() and ratio.max() < 2, (name, ratio.min(), ratio.max())
        # dU+/dy+ is 1 at the wall in wall units: y+ = (y/h) Re_tau was right
        assert flow.grad_u[0, 0, 1] == pytest.approx(1.0, abs=0.05)
        assert dns.grad_u[0, 0, 1] == pytest.approx(1.0, abs=0.01)
        assert flow.coords[:, 1].max() == pytest.approx(1.0) and (flow.coords[:, [0, 2]] == 0).all()
    assert flows["channel_Re180"].dropped == {"k_kepsilon <= 0": 2, "ep_kepsilon <= 0": 2}


def test_hoyas_without_rans_profiles_and_the_wall_cells_are_named(data):
    folder = data / "hoyas_jimenez_channel"
    with pytest.raises(rans.RansDataError, match=r"kepsilon_950\.mat"):
        rans.read_hoyas_channel(folder, 950, inputs="rans")
    assert rans.read_hoyas_channel(folder, 950, inputs="dns").n == 193
    with pytest.raises(rans.RansDataError, match=r"kepsilon_180\.mat.*k_kepsilon: 2 of 45"):
        rans.load_flow("channel_Re180", data_dir=data)
    with pytest.raises(FileNotFoundError, match=r"Re4000\.prof"):
        rans.read_hoyas_channel(folder, 4000, inputs="dns")
    with pytest.raises(rans.RansDataError, match="inputs"):
        rans.read_hoyas_channel(folder, 180, inputs="les")


# --------------------------------------------------------------------------------------------
# Finding, verifying, downloading


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No reference data anywhere but where a test puts it."""
    monkeypatch.delenv("FLOWLEARN_DATA", raising=False)
    monkeypatch.setattr(rans, "repo_rans_dir", lambda: tmp_path / "no-repo")
    monkeypatch.setattr(rans, "download_root", lambda: tmp_path / "cache" / "rans")
    return tmp_path


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(KeyError, match="duct_pinelli_Reb3500"):
        rans.load_flow("duct_AR2_Re180")


def test_a_corrupted_copy_is_refused_naming_the_file_and_both_digests(data, tmp_path):
    copy = tmp_path / "rans" / "tbnn_sandia" / "channel.txt"
    copy.parent.mkdir(parents=True)
    shutil.copyfile(data / "tbnn_sandia" / "channel.txt", copy)
    assert rans.load_flow("channel_Re590", data_dir=tmp_path).meta["source"] == str(copy)
    raw = bytearray(copy.read_bytes())
    at = next(i for i in range(len(raw) - 30, 0, -1) if chr(raw[i]).isdigit())
    raw[at] ^= 0x01  # one digit of a value changed: still a readable file
    copy.write_bytes(bytes(raw))
    expected = rans.FLOWS["channel_Re590"].files["channel.txt"]
    with pytest.raises(DigestMismatchError) as err:
        rans.load_flow("channel_Re590", data_dir=tmp_path)
    msg = str(err.value)
    assert str(copy) in msg and expected in msg and rans.sha256_file(copy) in msg
    assert rans.load_flow("channel_Re590", data_dir=tmp_path, verify=False).n == 59


def test_not_found_says_where_it_looked_and_where_the_data_come_from(nowhere):
    with pytest.raises(DataNotFoundError) as err:
        rans.load_flow("duct_AR1_Re180", data_dir=nowhere / "mine")
    msg = str(err.value)
    assert "rmcconke/ml-turbulence-benchmark" in msg and "66f2035f" in msg
    assert "converted" in msg and str(nowhere / "mine") in msg
    with pytest.raises(DataNotFoundError, match="download=True"):
        rans.load_flow("channel_Re590")
    with pytest.raises(DataNotFoundError, match="ml-turbulence-benchmark"):
        rans.download("hill_Re10595", dest=nowhere)


class _Response(io.BytesIO):
    pass


def _opener_serving(data, names, corrupt=False):
    served = {}
    for name in names:
        spec = rans.FLOWS[name]
        for f, url in spec.urls.items():
            served[url] = (data / spec.folder / f).read_bytes()
    calls = []

    def opener(url, timeout):
        assert timeout > 0
        calls.append(url)
        body = served[url]
        return _Response(body[:-10] + b"0123456789" if corrupt else body)

    opener.calls = calls
    return opener


def test_download_writes_verified_files_from_pinned_commits(data, nowhere):
    names = ("channel_Re590", "channel_Re180", "duct_pinelli_Reb3500")
    opener = _opener_serving(data, names)
    dest = nowhere / "dl"
    for name in names:
        folder = rans.download(name, dest=dest, opener=opener)
        spec = rans.FLOWS[name]
        assert folder == dest / spec.folder
        for f in spec.files:
            assert (folder / f).read_bytes() == (data / spec.folder / f).read_bytes()
        assert not list(folder.rglob("*.part"))
    assert all(u.startswith("https://raw.githubusercontent.com/") for u in opener.calls)
    assert any("fed9eca03e59478cfe17bd4b62d529545fba372a" in u and "%20" in u for u in opener.calls)
    assert any("280240508527d342caef5ad9adb2a7c97ce0ed8f" in u for u in opener.calls)
    # already there and good: nothing fetched again
    before = len(opener.calls)
    rans.download("channel_Re590", dest=dest, opener=opener)
    assert len(opener.calls) == before
    # load_flow(download=True) fetches into the cache when found nowhere
    flow = rans.load_flow("channel_Re590", download=True, opener=opener)
    assert flow.n == 59 and (nowhere / "cache" / "rans" / "tbnn_sandia" / "channel.txt").is_file()


def test_download_of_wrong_bytes_raises_and_leaves_no_file(data, nowhere):
    opener = _opener_serving(data, ["channel_Re590"], corrupt=True)
    with pytest.raises(DigestMismatchError, match="sha256"):
        rans.download("channel_Re590", dest=nowhere / "dl", opener=opener)
    assert [p for p in (nowhere / "dl").rglob("*") if p.is_file()] == []

    def failing(url, timeout):
        raise OSError("network is unreachable")

    with pytest.raises(DataNotFoundError, match="unreachable"):
        rans.download("channel_Re590", dest=nowhere / "dl", opener=failing)
    assert [p for p in (nowhere / "dl").rglob("*") if p.is_file()] == []


# --------------------------------------------------------------------------------------------
# Bad input: named by file, column and count


def _write_csv(path, columns: dict, comments=()):
    lines = [f"# {c}" for c in comments] + [",".join(columns)]
    n = len(next(iter(columns.values())))
    lines += [",".join(repr(float(columns[c][i])) for c in columns) for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _good_columns(n=8, second="epsilon"):
    rng = np.random.default_rng(1)
    cols = {"x": rng.uniform(size=n), "y": rng.uniform(size=n), "z": rng.uniform(size=n),
            "k": rng.uniform(1, 2, n), second: rng.uniform(1, 2, n)}  # fmt: skip
    cols.update({c: rng.normal(size=n) for c in rans.GRAD_COLUMNS})
    cols.update({c: rng.uniform(0.1, 1, n) for c in rans.LABEL_COLUMNS})
    return cols


def test_table_bad_inputs_name_file_column_and_count(tmp_path):
    cols = _good_columns()
    missing = {c: v for c, v in cols.items() if c not in ("k", "dUydz")}
    path = _write_csv(tmp_path / "missing.csv", missing)
    with pytest.raises(rans.RansDataError, match=r"missing\.csv.*missing column\(s\) k, dUydz"):
        rans.read_table(path)
    cases = {
        "nan": ("dUxdy", [2, 5], np.nan, r"dUxdy: 2 of 8 values are not", "non-finite dUxdy"),
        "k": ("k", [0], 0.0, r"column k: 1 of 8 values are <= 0", "k <= 0"),
        "eps": ("epsilon", [1, 3, 7], -1.0, r"epsilon: 3 of 8 values are <= 0", "epsilon <= 0"),
        "inf": ("uv", [4], np.inf, r"uv: 1 of 8 values are not finite", "non-finite uv"),
    }  # fmt: skip
    for tag, (col, rows, value, message, reason) in cases.items():
        bad = {c: v.copy() for c, v in cols.items()}
        bad[col][rows] = value
        path = _write_csv(tmp_path / f"{tag}.csv", bad)
        with pytest.raises(rans.RansDataError, match=rf"{tag}\.csv.*{message}"):
            rans.read_table(path)
        flow = rans.read_table(path, drop_invalid=True)
        assert flow.n == 8 - len(rows) and flow.dropped == {reason: len(rows)}
    omega = _good_columns(second="omega")
    omega["omega"][[0, 1]] = 0.0
    path = _write_csv(tmp_path / "omega.csv", omega)
    with pytest.raises(rans.RansDataError, match=r"column omega: 2 of 8 values are <= 0"):
        rans.read_table(path)
    both = {**cols, "omega": cols["epsilon"]}
    with pytest.raises(rans.RansDataError, match="both epsilon and omega"):
        rans.read_table(_write_csv(tmp_path / "both.csv", both))
    partial = {c: v for c, v in cols.items() if c != "vw"}
    with pytest.raises(rans.RansDataError, match=r"missing column.*vw"):
        rans.read_table(_write_csv(tmp_path / "partial.csv", partial))
    (tmp_path / "text.csv").write_text("k,epsilon\n1,abc\n")
    with pytest.raises(
        rans.RansDataError, match=r"text\.csv: column epsilon: 1 of 1 values are not"
    ):
        rans.read_table(tmp_path / "text.csv")
    with pytest.raises(FileNotFoundError, match=r"absent\.csv"):
        rans.read_table(tmp_path / "absent.csv")
    with pytest.raises(rans.RansDataError, match="unknown table format"):
        rans.read_table(tmp_path / "flow.xlsx")


def test_source_readers_name_file_column_and_count(data, tmp_path):
    import pandas as pd

    src = data / "mcconkey_benchmark" / "duct_AR_1_Ret_180.csv.gz"
    with gzip.open(src, "rt") as fh:
        comments = [line for line in fh.read().splitlines() if line.startswith("#")]
    frame = pd.read_csv(src, comment="#")
    frame.loc[[3, 4, 9], "omega_rans"] = np.nan
    frame.loc[[7], "k_rans"] = -1.0
    bad = tmp_path / "duct_AR_1_Ret_180.csv.gz"
    with gzip.open(bad, "wt") as fh:
        fh.write("\n".join(comments) + "\n")
        frame.to_csv(fh, index=False)
    with pytest.raises(rans.RansDataError) as err:
        rans.read_mcconkey(bad)
    msg = str(err.value)
    assert str(bad) in msg and "omega_rans: 3 of 2209" in msg and "k_rans: 1 of 2209" in msg
    flow = rans.read_mcconkey(bad, drop_invalid=True)
    assert flow.n == 2205 and flow.dropped == {"non-finite omega_rans": 3, "k_rans <= 0": 1}
    assert flow.wall_distance.shape == (2205,) and flow.meta["walls"]["y"] == pytest.approx(1e-3)
    with gzip.open(bad, "wt") as fh:
        frame.drop(columns=["dUydz_rans", "uw_dns"]).to_csv(fh, index=False)
    with pytest.raises(rans.RansDataError, match=r"missing column\(s\) dUydz_rans, uw_dns"):
        rans.read_mcconkey(bad)

    lines = (data / "tbnn_sandia" / "channel.txt").read_text().splitlines()
    fields = lines[10].split()
    fields[1] = "-" + fields[1]
    lines[10] = " ".join(fields)
    sandia = tmp_path / "channel.txt"
    sandia.write_text("\n".join(lines) + "\n")
    with pytest.raises(rans.RansDataError, match=r"channel\.txt: column epsilon: 1 of 59"):
        rans.read_sandia_channel(sandia)
    assert rans.read_sandia_channel(sandia, drop_invalid=True).dropped == {"epsilon <= 0": 1}
    with pytest.raises(FileNotFoundError, match=r"nothing\.txt"):
        rans.read_sandia_channel(tmp_path / "nothing.txt")
    with pytest.raises(FileNotFoundError, match="R_DNS"):
        rans.read_pinelli_rans(tmp_path)


# --------------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".nc"])
def test_table_round_trip_and_no_overwrite(tmp_path, suffix, flows):
    for flow in (
        _small_flow(),
        _small_flow(labels=False, coords=False),
        flows["duct_pinelli_Reb3500"].subset(np.arange(0, 2500, 37)),
    ):
        path = tmp_path / f"{flow.name}-{flow.tau is None}{suffix}"
        rans.write_table(flow, path)
        back = rans.read_table(path)
        _assert_same(flow, back)
        assert back.meta["source"] == str(path)
        with pytest.raises(FileExistsError, match=str(path.name)):
            rans.write_table(flow, path)
        rans.write_table(flow.subset(slice(0, 3)), path, overwrite=True)
        assert rans.read_table(path).n == 3
    if suffix == ".csv.gz":
        assert path.read_bytes()[:2] == b"\x1f\x8b"


def test_table_with_omega_and_plain_csv(tmp_path):
    cols = _good_columns(second="omega")
    del cols["x"], cols["y"], cols["z"]
    cols["note"] = np.arange(8.0)
    path = _write_csv(tmp_path / "plain.csv", cols, comments=["made by hand", "units: SI"])
    flow = rans.read_table(path)
    np.testing.assert_allclose(flow.epsilon, 0.09 * cols["k"] * cols["omega"])
    assert "0.09 k omega" in flow.meta["inputs"] and flow.meta["ignored_columns"] == ["note"]
    assert flow.name == "plain" and flow.kind == "custom" and flow.coords is None
    np.testing.assert_array_equal(flow.grad_u[:, 1, 2], cols["dUydz"])
    np.testing.assert_array_equal(flow.tau[:, 2, 0], cols["uw"])


def test_foam_field_round_trip(tmp_path, flows, data):
    flow = flows["duct_pinelli_Reb3500"]
    path = tmp_path / "R_pred"
    rans.write_foam_field(path, flow.tau, "R_pred", "[0 2 -2 0 0 0 0]", note="tau = <u_i'u_j'>\nSI")
    text = path.read_text()
    assert "volSymmTensorField" in text and "// tau = <u_i'u_j'>" in text and "calculated" in text
    np.testing.assert_array_equal(rans.read_foam_field(path), flow.tau)
    original = rans.read_foam_field(data / "tbrf_pinelli_duct" / "rans_kOmega_Re3500" / "R_DNS")
    np.testing.assert_array_equal(rans.read_foam_field(path), original)
    with pytest.raises(FileExistsError, match="R_pred"):
        rans.write_foam_field(path, flow.tau, "R_pred")
    rans.write_foam_field(path, flow.k, "k", "[0 2 -2 0 0 0 0]", overwrite=True)
    assert "volScalarField" in path.read_text()
    np.testing.assert_array_equal(rans.read_foam_field(path), flow.k)
    vec = tmp_path / "C"
    rans.write_foam_field(vec, flow.coords, "C")
    np.testing.assert_array_equal(rans.read_foam_field(vec), flow.coords)
    with pytest.raises(rans.RansDataError, match="not symmetric"):
        rans.write_foam_field(tmp_path / "G", flow.grad_u, "G")
    assert not (tmp_path / "G").exists()


def test_foam_reader_forms_and_malformed_files(tmp_path):
    head = "FoamFile\n{\n    format ascii;\n    class %s;\n    object f;\n}\n"
    cases = {
        "uniform_scalar": (head % "volScalarField" + "internalField uniform 2.5;\n", 2.5),
        "uniform_vec": (head % "volVectorField" + "internalField uniform (1 2 3);\n", [1, 2, 3]),
        "plain_list": (
            head % "vectorField" + "2\n(\n(1 2 3)\n(4 5 6)\n)\n",
            [[1, 2, 3], [4, 5, 6]],
        ),
        "tensor": (
            head % "volTensorField"
            + "internalField nonuniform List<tensor> 1 ((1 2 3 4 5 6 7 8 9));\n",
            [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]],
        ),
    }
    for tag, (text, expected) in cases.items():
        (tmp_path / tag).write_text(text)
        np.testing.assert_array_equal(rans.read_foam_field(tmp_path / tag), expected)
    assert rans.read_foam_field(tmp_path / "uniform_scalar", n=4).shape == (4,)
    bad = {
        "count": (head % "volScalarField" + "internalField nonuniform List<scalar> 3 (1 2);\n",
                  "says 3 scalar values"),
        "word": (head % "volScalarField" + "internalField nonuniform List<scalar> 2 (1 x);\n",
                 "'x' is not a number"),
        "type": (head % "volScalarField" + "internalField nonuniform List<label> 1 (1);\n",
                 "List<label> unknown"),
        "binary": ((head % "volScalarField").replace("ascii", "binary"), "binary"),
        "nothing": ("hello\n", "no internalField"),
    }  # fmt: skip
    for tag, (text, message) in bad.items():
        (tmp_path / tag).write_text(text)
        with pytest.raises(rans.RansDataError, match=message):
            rans.read_foam_field(tmp_path / tag)
    with pytest.raises(FileNotFoundError, match="absent"):
        rans.read_foam_field(tmp_path / "absent")


def test_subset_and_shape_checks():
    flow = _small_flow()
    part = flow.subset(np.array([True, False, True, False, False, True]))
    assert part.n == 3 and part.meta == flow.meta and part.dropped == flow.dropped
    np.testing.assert_array_equal(part.tau, flow.tau[[0, 2, 5]])
    np.testing.assert_array_equal(flow.subset([5, 0]).k, flow.k[[5, 0]])
    with pytest.raises(rans.RansDataError, match="mask"):
        flow.subset(np.ones(2, dtype=bool))
    with pytest.raises(rans.RansDataError, match="grad_u"):
        rans.RansFlow("f", "custom", np.ones(3), np.ones(3), np.zeros((3, 3)))
    with pytest.raises(rans.RansDataError, match="kind"):
        rans.RansFlow("f", "pipe", np.ones(3), np.ones(3), np.zeros((3, 3, 3)))

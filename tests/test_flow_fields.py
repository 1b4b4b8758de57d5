"""The flow surrogate's data contract: channels, normalisation inside the model, the split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flowlearn.data.flow_fields import (
    FIELD_NAMES,
    INPUT_NAMES,
    NormalisationError,
    NormalisedMSE,
    Normaliser,
    channel,
    make_inputs,
    split_indices,
)


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    sdf = rng.normal(3.0, 4.0, size=(8, 8, 16)).astype(np.float32)
    re = rng.uniform(10, 40, size=8)
    x = make_inputs(sdf, sdf < 0, re)
    y = (rng.normal(size=(8, 3, 8, 16)) * [[[[1.0]], [[0.2]], [[5.0]]]]).astype(np.float32)
    return x, y, re


def test_the_schema_names_every_channel_once_with_units():
    assert INPUT_NAMES == ("sdf", "mask", "re") and FIELD_NAMES == ("u", "v", "p")
    assert channel("p").units == "rho U^2" and channel("sdf").units == "cells"
    with pytest.raises(KeyError, match="no channel 'w'"):
        channel("w")


def test_the_trained_reynolds_range_is_data_not_a_pixel(data):
    x, y, re = data
    norm = Normaliser.fit(x, y, re)
    assert norm.re_range.tolist() == pytest.approx([re.min(), re.max()], rel=1e-6)
    x[:, 2] = 1000.0  # what the input maps hold does not decide the trained range
    assert Normaliser.fit(x, y, re).re_range.tolist() == norm.re_range.tolist()
    assert norm.in_mean[1] == 0 and norm.in_std[1] == 1  # the mask stays 0 / 1


def test_statistics_travel_in_the_state_dict_and_are_checked(data):
    x, y, re = data
    norm = Normaliser.fit(x, y, re)
    again = Normaliser()
    again.load_state_dict(norm.state_dict())
    for name, value in norm.to_dict().items():
        np.testing.assert_array_equal(again.to_dict()[name], value)
    bad = norm.to_dict()
    bad["out_std"] = np.array([1.0, 0.0, 1.0], dtype=np.float32)
    with pytest.raises(NormalisationError, match=r"out_std .* has a deviation <= 0"):
        Normaliser.from_dict(bad)
    bad["out_std"] = np.array([1.0, np.nan, 1.0], dtype=np.float32)
    with pytest.raises(NormalisationError, match="non-finite"):
        Normaliser.from_dict(bad)
    with pytest.raises(NormalisationError, match=r"no surrogate normalisation \['re_range'\]"):
        Normaliser.from_dict({k: v for k, v in norm.to_dict().items() if k != "re_range"})


def test_the_physical_loss_is_the_normalised_loss(data):
    """Training a member on physical fields with NormalisedMSE is training its network on
    normalised fields with the mean squared error, to round-off."""
    x, y, re = data
    norm = Normaliser.fit(x, y, re)
    pred = torch.from_numpy(y) + torch.randn(y.shape, generator=torch.Generator().manual_seed(0))
    target = torch.from_numpy(y)
    normalised = torch.nn.functional.mse_loss(norm.targets(pred), norm.targets(target))
    torch.testing.assert_close(NormalisedMSE(norm)(pred, target), normalised, rtol=1e-5, atol=0)


def test_a_member_maps_physical_inputs_to_physical_fields(data):
    from flowlearn.training.surrogate import Member, build_model

    x, y, re = data
    norm = Normaliser.fit(x, y, re)
    torch.manual_seed(0)
    net = build_model("guo", (16, 8), 4, inputs=("sdf", "mask"))
    member = Member("guo", net, ("sdf", "mask"), norm).eval()
    xt = torch.from_numpy(x)
    with torch.no_grad():
        # normalised, then the two channels the member reads
        xn = ((xt - norm.in_mean.reshape(1, 3, 1, 1)) / norm.in_std.reshape(1, 3, 1, 1))[:, :2]
        expected = net(xn) * norm.out_std.reshape(1, 3, 1, 1) + norm.out_mean.reshape(1, 3, 1, 1)
        torch.testing.assert_close(member(xt), expected, rtol=0, atol=0)
    assert {"normaliser.in_mean", "normaliser.re_range"} <= set(member.state_dict())


def test_the_split_is_seeded_disjoint_and_complete():
    train, val, test = split_indices(50, seed=3, val_fraction=0.1, test_fraction=0.2)
    assert (len(train), len(val), len(test)) == (35, 5, 10)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(50))
    again = split_indices(50, seed=3, val_fraction=0.1, test_fraction=0.2)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again, strict=True))
    other = split_indices(50, seed=4, val_fraction=0.1, test_fraction=0.2)
    assert not np.array_equal(test, other[2])
    assert [len(p) for p in split_indices(3, 0, 0.01, 0.01)] == [1, 1, 1]


def test_the_divergence_loss_adds_only_the_divergence_error(data):
    """DivergenceMatchedMSE = NormalisedMSE + the mean squared difference of the discrete
    divergences in units of out_std[u]: a solenoidal error (a rotation added to the velocity)
    adds nothing, a source adds its square."""
    from flowlearn.data.flow_fields import DivergenceMatchedMSE

    x, y, re = data
    norm = Normaliser.fit(x, y, re)
    target = torch.from_numpy(y)
    ny, nx = y.shape[-2:]
    yy, xx = torch.meshgrid(torch.arange(ny, dtype=torch.float32),
                            torch.arange(nx, dtype=torch.float32), indexing="ij")  # fmt: skip
    swirl, source = target.clone(), target.clone()
    swirl[:, 0] += 0.01 * yy  # u += c y, v -= c x: divergence-free
    swirl[:, 1] -= 0.01 * xx
    source[:, 0] += 0.01 * xx  # u += c x: divergence c everywhere
    loss = DivergenceMatchedMSE(norm, weight=2.0)
    plain = NormalisedMSE(norm)
    torch.testing.assert_close(loss(swirl, target), plain(swirl, target))
    expected = plain(source, target) + 2.0 * (0.01 / norm.out_std[0]) ** 2
    torch.testing.assert_close(loss(source, target), expected, rtol=1e-4, atol=0)
    with pytest.raises(ValueError, match="weight -1 must be >= 0"):
        DivergenceMatchedMSE(norm, weight=-1)

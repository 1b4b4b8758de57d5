"""The curse of dimensionality: the volume is in the corners and the data never fill it.

Three parts, after the slide:

(a) the share of the n-cube taken by its inscribed n-ball, ``pi^(n/2) / (2^n Gamma(n/2 + 1))``:
    78.5 % in 2-D, 52.4 % in 3-D, then towards 0 (computed in log space up to n = ``max_dim``);
(b) the slide's table, exactly: a 28 x 28 grey image (256 levels) is one of 256^784 = 10^1,888
    possible images and its cube has 2^784 = 10^236 corners; a 256 x 256 colour image one of
    10^473,479 with 10^59,185 corners;
(c) Monte Carlo in ``[-1, 1]^n``: the fraction of uniform samples inside the ball against the
    exact share, the fraction of orthants (corner regions) that any sample reaches, and the
    concentration of pairwise distances: in high dimension all points are about equally far apart.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
from pydantic import Field, field_validator, model_validator

from flowlearn.evaluation.geometry_of_high_dimensions import (
    count_states,
    distance_concentration,
    log10_ball_to_cube_ratio,
    sample_cube,
)
from flowlearn.experiments._base import Claim, Experiment, ExperimentConfig, Result

#: the slide's image spaces: (label, pixels x channels, grey levels, the slide's exponents of
#: the number of images and of the number of corners)
IMAGES = (
    ("28x28 grey", 28 * 28, 256, 1888, 236),
    ("256x256x3 colour", 256 * 256 * 3, 256, 473479, 59185),
)
#: the slide's shares, in %, and the rounding they are given to
SLIDE_SHARES = {2: 78.5, 3: 52.4}
SHARE_TOLERANCE_PERCENT = 0.05
#: Monte Carlo fractions agree with the exact share within this many binomial sigmas
MC_SIGMAS = 4.0
#: distances have concentrated when the farthest pair is less than this much farther than the
#: nearest, relative to the nearest
CONCENTRATED_CONTRAST = 0.25


class Config(ExperimentConfig):
    """Exact volumes and state counts, and Monte Carlo checks in the cube ``[-1, 1]^n``."""

    max_dim: int = Field(
        1000,
        ge=3,
        le=1_000_000,
        description="largest dimension of the ball-to-cube volume ratio (exact, log space)",
    )
    mc_max_dim: int = Field(
        20,
        ge=3,
        le=40,
        description="Monte Carlo runs over n = 2 .. mc_max_dim; at 10^6 samples no sample falls "
        "inside the ball beyond n ~ 14",
    )
    mc_samples: int = Field(
        1_000_000,
        ge=1000,
        le=50_000_000,
        description="uniform samples per dimension; the binomial error is sqrt(p(1-p)/N)",
    )
    distance_dims: list[int] = Field(
        [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
        min_length=2,
        max_length=30,
        description="dimensions of the distance-concentration study, increasing, each 1..100000",
    )
    distance_points: int = Field(
        500,
        ge=10,
        le=3000,
        description="points per dimension; all P(P-1)/2 pairwise distances are computed "
        "(500 points: 124,750 pairs)",
    )
    histogram_dims: list[int] = Field(
        [2, 10, 100, 1000],
        min_length=1,
        max_length=6,
        description="dimensions whose distance histograms are drawn; each one of distance_dims",
    )

    @field_validator("distance_dims")
    @classmethod
    def _dims_increasing(cls, dims: list[int]) -> list[int]:
        bad = [n for n in dims if not 1 <= n <= 100_000]
        if bad:
            raise ValueError(f"every dimension must be in 1..100000, got {bad}")
        if any(b <= a for a, b in pairwise(dims)):
            raise ValueError(f"dimensions must be strictly increasing, got {dims}")
        return dims

    @model_validator(mode="after")
    def _histograms_in_dims(self) -> Config:
        missing = [n for n in self.histogram_dims if n not in self.distance_dims]
        if missing:
            raise ValueError(
                f"histogram_dims {missing} are not in distance_dims {self.distance_dims}"
            )
        return self


def _fmt_power(exponent: float, decimals: int = 0) -> str:
    return f"10^{exponent:,.{decimals}f}"


def run(config: Config, run_dir: Path) -> Result:
    rng = np.random.default_rng(config.seed)

    # (a) exact ball-to-cube ratio, n = 1 .. max_dim
    dims = np.arange(1, config.max_dim + 1)
    log10_ratio = log10_ball_to_cube_ratio(dims)
    below_1pc = dims[log10_ratio < -2.0]
    volume = {
        "share_2d_percent": float(100 * 10 ** log10_ratio[1]),
        "share_3d_percent": float(100 * 10 ** log10_ratio[2]),
        "first_dim_below_1_percent": int(below_1pc[0]) if below_1pc.size else None,
        "max_dim": config.max_dim,
        "log10_share_at_max_dim": float(log10_ratio[-1]),
        "strictly_decreasing": bool(np.all(np.diff(log10_ratio) < 0)),
        "all_finite": bool(np.all(np.isfinite(log10_ratio))),
    }

    # (b) the slide's table, with exact digit counts
    table = {}
    for label, pixels, levels, slide_states, slide_corners in IMAGES:
        states = count_states(levels, pixels)
        corners = count_states(2, pixels)
        table[label] = {
            "components": pixels,
            "levels": levels,
            "log10_images": states.log10,
            "digits_images": states.digits,
            "mantissa_images": states.mantissa,
            "slide_exponent_images": slide_states,
            "log10_corners": corners.log10,
            "digits_corners": corners.digits,
            "mantissa_corners": corners.mantissa,
            "slide_exponent_corners": slide_corners,
        }

    # (c) Monte Carlo in the cube
    mc = sample_cube(rng, range(2, config.mc_max_dim + 1), config.mc_samples)
    z = (mc.inside_ball - mc.inside_exact) / mc.inside_sigma
    sigmas = mc.inside_sigmas
    reached = mc.dims[mc.inside_ball > 0]
    sampling = {
        "dims": mc.dims.tolist(),
        "samples": config.mc_samples,
        "inside_ball": mc.inside_ball.tolist(),
        "inside_exact": mc.inside_exact.tolist(),
        "z_scores": z.tolist(),
        "deviation_sigmas": sigmas.tolist(),
        "max_deviation_sigmas": float(np.max(sigmas)),
        "last_dim_with_sample_inside": int(reached[-1]) if reached.size else None,
        "orthants_occupied": mc.orthants_occupied.tolist(),
        "orthants_expected": mc.orthants_expected.tolist(),
        "orthants_max_relative_error": float(
            np.max(np.abs(mc.orthants_occupied / mc.orthants_expected - 1))
        ),
    }

    conc = distance_concentration(rng, config.distance_dims, config.distance_points)
    distances = {
        "dims": conc.dims.tolist(),
        "points": config.distance_points,
        "contrast": conc.contrast.tolist(),
        "relative_spread": conc.relative_spread.tolist(),
        "relative_spread_theory": conc.relative_spread_theory.tolist(),
        "contrast_decreasing": bool(np.all(np.diff(conc.contrast) < 0)),
        "contrast_at_max_dim": float(conc.contrast[-1]),
    }

    metrics = {
        "volume": volume,
        "table": table,
        "sampling": sampling,
        "distances": distances,
    }
    arrays = {
        "volume_dims": dims,
        "volume_log10_ratio": log10_ratio,
        "mc_dims": mc.dims,
        "mc_inside": mc.inside_ball,
        "mc_inside_exact": mc.inside_exact,
        "mc_inside_sigma": mc.inside_sigma,
        "mc_orthants_occupied": mc.orthants_occupied,
        "mc_orthants_expected": mc.orthants_expected,
        "distance_dims": conc.dims,
        "distance_contrast": conc.contrast,
        "distance_relative_spread": conc.relative_spread,
        "distance_relative_spread_theory": conc.relative_spread_theory,
        "distance_hist_edges": conc.hist_edges,
        "distance_hist_counts": conc.hist_counts,
    }
    return Result(metrics=metrics, claims=claims(config, metrics), arrays=arrays)


def claims(config: Config, m: dict) -> list[Claim]:
    out = []
    vol = m["volume"]
    for n, slide in SLIDE_SHARES.items():
        share = vol[f"share_{n}d_percent"]
        out.append(
            Claim(
                slide="Curse of dimensionality: ball in cube",
                talk=f"{n}-D: {slide:.1f} %",
                measured=f"{share:.1f} %",
                reproduced=abs(share - slide) <= SHARE_TOLERANCE_PERCENT,
                reason=f"pi^({n}/2) / (2^{n} Gamma({n}/2 + 1)) = {share:.6f} %; reproduced when "
                f"within {SHARE_TOLERANCE_PERCENT} points of the slide (its rounding).",
            )
        )
    n1 = vol["first_dim_below_1_percent"]
    out.append(
        Claim(
            slide="Curse of dimensionality: ball in cube",
            talk="then towards 0",
            measured=f"< 1 % from n = {n1}; {_fmt_power(vol['log10_share_at_max_dim'], 1)} "
            f"at n = {vol['max_dim']}",
            reproduced=vol["strictly_decreasing"] and n1 is not None and vol["all_finite"],
            reason="the share decreases at every n from 1 to "
            f"{vol['max_dim']} (computed as a log10 with gammaln, no overflow or underflow).",
        )
    )

    for label, row in m["table"].items():
        for what, noun in (("images", "possible images"), ("corners", "corners of the cube")):
            slide = row[f"slide_exponent_{what}"]
            log10 = row[f"log10_{what}"]
            base = row["levels"] if what == "images" else 2
            out.append(
                Claim(
                    slide="Curse of dimensionality: image spaces",
                    talk=f"{label}: {_fmt_power(slide)} {noun}",
                    measured=f"{_fmt_power(log10, 2)} ({row[f'digits_{what}']:,} digits)",
                    reproduced=round(log10) == slide,
                    reason=f"{base}^{row['components']:,} = {row[f'mantissa_{what}']:.3f} x "
                    f"10^{row[f'digits_{what}'] - 1:,}, digit count checked in exact integers; "
                    "reproduced when the slide's exponent is log10 rounded to the nearest integer.",
                )
            )

    s = m["sampling"]
    last = s["last_dim_with_sample_inside"]
    where = (
        f"No sample falls in the ball beyond n = {last}"
        if last is not None and last < config.mc_max_dim
        else f"Samples fall in the ball up to n = {config.mc_max_dim}"
    )
    out.append(
        Claim(
            slide="Curse of dimensionality: ball in cube",
            talk="uniform samples fill the ball in proportion to its volume",
            measured=f"max |MC - exact| = {s['max_deviation_sigmas']:.2f} sigma, "
            f"n = 2..{config.mc_max_dim}",
            reproduced=s["max_deviation_sigmas"] < MC_SIGMAS,
            reason=f"{s['samples']:,} uniform samples per dimension; reproduced when every "
            f"count is within {MC_SIGMAS:g} sigmas of the exact share (exact binomial tails, "
            f"as Gaussian sigmas). {where}; the "
            "samples reach a "
            f"fraction {s['orthants_occupied'][-1]:.3g} of the 2^{config.mc_max_dim} orthants "
            f"(expected {s['orthants_expected'][-1]:.3g}).",
        )
    )

    d = m["distances"]
    contrast = d["contrast_at_max_dim"]
    out.append(
        Claim(
            slide="Curse of dimensionality: distances",
            talk="in high dimension all points are about equally far apart",
            measured=f"(max - min) / min distance = {contrast:.3g} at n = {d['dims'][-1]} "
            f"(vs {d['contrast'][0]:.3g} at n = {d['dims'][0]})",
            reproduced=d["contrast_decreasing"] and contrast < CONCENTRATED_CONTRAST,
            reason=f"{d['points']} uniform points, all pairs; reproduced when the contrast "
            f"decreases with n ({'it does' if d['contrast_decreasing'] else 'it does not'}) and "
            f"is below {CONCENTRATED_CONTRAST} at the largest n. std/mean of the distances: "
            f"{d['relative_spread'][-1]:.3g} (theory {d['relative_spread_theory'][-1]:.3g}).",
        )
    )
    return out


EXPERIMENT = Experiment(
    name="dimensionality",
    title="The curse of dimensionality",
    claim="In high dimension the volume is in the corners: the ball's share of the cube goes to 0, "
    "image spaces have 10^1,888 states and more, and all points are about equally far apart.",
    order=20,
    config=Config,
    run=run,
    quick={"mc_samples": 100_000, "distance_points": 200},
    runtime_quick="~5 s",
    runtime_full="~15 s",
    claims=claims,
)

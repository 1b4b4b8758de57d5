"""Figures of ``flow-surrogate``, drawn from the run's arrays and metrics only.

Fields are dimensionless as in the datasets: velocities ``u/U``, ``v/U`` over the mean inlet
velocity, pressure ``p/(rho U^2)`` relative to the outlet; lengths in cells. Errors are the
relative velocity error of Guo, Li & Iorio (KDD 2016) per sample, shown in %.
"""

from __future__ import annotations

import itertools
import re

import matplotlib as mpl
import matplotlib.ticker as mticker
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from flowlearn.evaluation.surrogate_scorecard import GUO_ERROR, Scorecard
from flowlearn.evaluation.surrogate_scorecard import TARGET_DEFAULT_ERROR as TARGET_ERROR
from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.cfd import _format
from flowlearn.report.figures.cfd._format import fmt, pct
from flowlearn.report.panels import body_cmap, field_limits, field_panel

#: the band around y = x in the drag plot
CD_BAND = 0.05

TEST_COLOUR = "C0"
HELDOUT_COLOUR = "C3"
GUO_COLOUR = "0.35"


def draw(run: RunRecord) -> list[Figure]:
    figures = [
        f(run)
        for f in (_fields, _errors, _drag, _reynolds, _trust, _warning, _cost_accuracy, _curves)
    ]
    return [f for f in figures if f is not None]


# ---------------------------------------------------------------------------- 1. fields
def _fields(run: RunRecord) -> Figure | None:
    a = run.arrays
    if not _format.has(a, "example_true", "example_pred", "example_mask"):
        return None
    true, pred = np.asarray(a["example_true"], float), np.asarray(a["example_pred"], float)
    masks = np.asarray(a["example_mask"], bool)
    m = true.shape[0]
    labels = a.get("example_label", np.array([f"sample {i}" for i in range(m)]))
    res = a.get("example_re", np.full(m, np.nan))
    errs = a.get("example_error", np.full(m, np.nan))

    fig = MplFigure(figsize=(14, 2.2 * m + 0.3), layout="constrained")
    rows = np.ravel(fig.subfigures(m, 1, squeeze=False))
    speed_cmap, err_cmap, p_cmap = map(body_cmap, ("viridis", "RdBu_r", "plasma"))
    titles = (
        "LBM speed |u|/U",
        "predicted speed |u|/U",
        "speed error Δ|u|/U (predicted − LBM)",
        "LBM pressure p/(ρU²)",
        "predicted pressure p/(ρU²)",
    )
    for i, row in enumerate(rows):
        mask, fluid = masks[i], ~masks[i]
        s_true = np.hypot(true[i, 0], true[i, 1])
        s_pred = np.hypot(pred[i, 0], pred[i, 1])
        d_speed = s_pred - s_true
        axes = row.subplots(1, 5, sharex=True, sharey=True)
        lo, hi = field_limits(s_true, s_pred, fluid=fluid)
        field_panel(axes[0], s_true, mask, speed_cmap, lo, hi)
        im = field_panel(axes[1], s_pred, mask, speed_cmap, lo, hi)
        row.colorbar(im, ax=list(axes[:2]), label="|u|/U", shrink=0.9, pad=0.01)
        d = d_speed[fluid & np.isfinite(d_speed)]
        vmax = float(np.abs(d).max()) if d.size else 0.0
        vmax = vmax if vmax > 0 else 1e-12
        im = field_panel(axes[2], d_speed, mask, err_cmap, -vmax, vmax)
        row.colorbar(im, ax=axes[2], label="Δ|u|/U", shrink=0.9, pad=0.01)
        lo, hi = field_limits(true[i, 2], pred[i, 2], fluid=fluid)
        field_panel(axes[3], true[i, 2], mask, p_cmap, lo, hi)
        im = field_panel(axes[4], pred[i, 2], mask, p_cmap, lo, hi)
        row.colorbar(im, ax=list(axes[3:]), label="p/(ρU²)", shrink=0.9, pad=0.01)
        axes[0].set_ylabel("y (cells)", fontsize=8)
        for ax, title in zip(axes, titles, strict=True):
            ax.tick_params(labelsize=7)
            if i == 0:
                ax.set_title(title, fontsize=8)
            if i == m - 1:
                ax.set_xlabel("x (cells)", fontsize=8)
        row.suptitle(
            f"{labels[i]}: Re {fmt(res[i], '.1f')}, relative velocity error {pct(errs[i])}",
            fontsize=9,
            fontweight="bold",
        )
    return Figure(
        "surrogate_fields",
        "Examples of median error within their family (unseen shapes of training families, then "
        "held-out families): speed |u|/U of the LBM and of the surrogate, their difference "
        "(symmetric scale), and the pressure p/(ρU²) relative to the outlet. Grey with a black "
        "outline: the body. The row title gives the sample's relative velocity error.",
        fig,
    )


# ---------------------------------------------------------------------------- 2. errors
def _boxes(ax, groups, positions, colour, hollow: bool, width: float) -> None:
    bp = ax.boxplot(
        groups,
        positions=positions,
        widths=width,
        patch_artist=True,
        showfliers=False,
        whis=(5, 95),
        manage_ticks=False,
    )
    for box in bp["boxes"]:
        box.set_facecolor("none" if hollow else mpl.colors.to_rgba(colour, 0.25))
        box.set_edgecolor(colour)
        box.set_linestyle("--" if hollow else "-")
    for key in ("whiskers", "caps", "medians"):
        for line in bp[key]:
            line.set_color(colour)
    rng = np.random.default_rng(0)
    for g, x in zip(groups, positions, strict=True):
        jitter = rng.uniform(-0.3, 0.3, len(g)) * width
        ax.scatter(
            x + jitter,
            g,
            s=9,
            zorder=3,
            facecolors="none" if hollow else colour,
            edgecolors=colour,
            linewidths=0.6,
            alpha=0.7,
        )


def _errors(run: RunRecord) -> Figure | None:
    a = run.arrays
    parts = [
        (name, colour)
        for name, colour in (("test", TEST_COLOUR), ("heldout", HELDOUT_COLOUR))
        if _format.has(a, f"{name}_error", f"{name}_family")
    ]
    if not parts:
        return None
    with_guo = any(_format.has(a, f"{name}_guo_error") for name, _ in parts)
    offset, width = (0.2, 0.35) if with_guo else (0.0, 0.6)
    n_boxes = sum(len(_format.families(a[f"{name}_family"])) for name, _ in parts)
    fig = MplFigure(figsize=(max(6.0, 0.8 * n_boxes + 2), 4.4), layout="constrained")
    ax = fig.add_subplot()
    ticks, ticklabels, all_values, x0 = [], [], [], 0.0
    spans = []
    for name, colour in parts:
        err = 100 * np.asarray(a[f"{name}_error"], float)
        fam = np.asarray(a[f"{name}_family"]).astype(str)
        families = _format.families(fam)
        pos = x0 + np.arange(len(families), dtype=float)
        groups = [err[fam == f] for f in families]
        _boxes(ax, groups, pos - offset, colour, hollow=False, width=width)
        all_values.append(err)
        if _format.has(a, f"{name}_guo_error"):
            guo = 100 * np.asarray(a[f"{name}_guo_error"], float)
            _boxes(ax, [guo[fam == f] for f in families], pos + offset, GUO_COLOUR, True, width)
            all_values.append(guo)
        ticks.extend(pos)
        ticklabels.extend(f"{f}\n(n={len(g)})" for f, g in zip(families, groups, strict=True))
        spans.append((name, pos[0] - 0.5, pos[-1] + 0.5))
        x0 = pos[-1] + 1.6
    ax.set_xticks(ticks, ticklabels, fontsize=8)
    for (_, _, right), (_, left, _) in itertools.pairwise(spans):
        ax.axvline((right + left) / 2, color="k", lw=0.8)
    ax.set_xlim(spans[0][1] - 0.2, spans[-1][2] + 0.2)
    for name, left, right in spans:
        text = "training families, unseen shapes" if name == "test" else "held-out families"
        ax.text(
            (left + right) / 2,
            1.01,
            text,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=9,
        )
    ax.axhspan(100 * GUO_ERROR[0], 100 * GUO_ERROR[1], color="C2", alpha=0.12, zorder=0)
    for level in GUO_ERROR:
        ax.axhline(100 * level, color="C2", lw=0.9)
    ax.axhline(100 * TARGET_ERROR, color="k", ls="--", lw=0.9)

    _format.log_y_if_wide(ax, np.concatenate(all_values))
    ax.set_ylabel("relative velocity error (%)")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    card = Scorecard.from_metrics(run.metrics)
    model = f"surrogate (ensemble of {card.ensemble})"
    handles = [Patch(facecolor=mpl.colors.to_rgba(c, 0.25), edgecolor=c) for _, c in parts]
    names = [f"{model}, {'test' if p == 'test' else 'held out'}" for p, _ in parts]
    if with_guo:
        handles.append(Patch(facecolor="none", edgecolor=GUO_COLOUR, linestyle="--"))
        names.append("Guo et al. CNN (baseline)")
    handles += [Line2D([], [], color="C2", lw=0.9), Line2D([], [], color="k", ls="--", lw=0.9)]
    names += ["Guo et al. 2016: 1.98-2.69 %", "target: 5 %"]
    ax.legend(handles, names, fontsize=7, loc="upper left", framealpha=0.9)
    ax.set_title(
        f"mean error: test {pct(card.test_error)}, held out {pct(card.heldout_error)}",
        fontsize=9,
        pad=16,
    )
    return Figure(
        "surrogate_errors",
        "Relative velocity error per sample, by shape family: unseen shapes of the training "
        "families (blue) and families never seen in training (red)"
        + (
            ", with Guo et al.'s CNN trained on the same inputs and data (hollow, grey)"
            if with_guo
            else ""
        )
        + ". Boxes: quartiles and median, whiskers 5-95 %. Green: the range Guo et al. (2016) "
        "report on unseen car profiles; dashed: the 5 % target.",
        fig,
    )


# ---------------------------------------------------------------------------- 3. drag
def _drag(run: RunRecord) -> Figure | None:
    a = run.arrays
    parts = [n for n in ("test", "heldout") if _format.has(a, f"{n}_cd_lbm", f"{n}_cd_pred")]
    if not parts:
        return None
    fig = MplFigure(figsize=(5.8, 5.2), layout="constrained")
    ax = fig.add_subplot()
    markers = iter("sD^vP*Xph<>")
    finite = []
    for name in parts:
        lbm = np.asarray(a[f"{name}_cd_lbm"], float)
        pred = np.asarray(a[f"{name}_cd_pred"], float)
        finite.append(np.concatenate([lbm, pred]))
        if name == "test":
            ax.scatter(
                lbm, pred, s=14, color=TEST_COLOUR, alpha=0.6, label="test (training families)"
            )
            continue
        fam = np.asarray(a.get("heldout_family", np.full(len(lbm), "held out"))).astype(str)
        for k, f in enumerate(_format.families(fam)):
            sel = fam == f
            ax.scatter(
                lbm[sel],
                pred[sel],
                s=22,
                marker=next(markers, "o"),
                color=f"C{(k + 3) % 10}",
                alpha=0.8,
                label=f"held out: {f}",
            )
    values = np.concatenate(finite)
    values = values[np.isfinite(values)]
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    pad = 0.05 * (hi - lo) if hi > lo else 0.5
    lo, hi = lo - pad, hi + pad
    x = np.linspace(lo, hi, 2)
    ax.plot(x, x, "k-", lw=0.9, label="y = x")
    ax.fill_between(
        x,
        x * (1 - CD_BAND),
        x * (1 + CD_BAND),
        color="k",
        alpha=0.1,
        lw=0,
        label=f"±{100 * CD_BAND:.0f} %",
    )
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("Cd, LBM (momentum exchange)")
    ax.set_ylabel("Cd, surrogate (control volume on the predicted fields)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    card = Scorecard.from_metrics(run.metrics)
    ax.set_title(
        f"median |ΔCd|/Cd: test {pct(card.cd_error_test)}, held out {pct(card.cd_error_heldout)}",
        fontsize=9,
    )
    return Figure(
        "surrogate_drag",
        "Drag coefficient from the surrogate's fields against the LBM's, per sample; the band is "
        f"±{100 * CD_BAND:.0f} % around y = x. The surrogate's Cd is a control-volume estimate on "
        "the predicted fields, the LBM's its momentum exchange on the body.",
        fig,
    )


# ---------------------------------------------------------------------------- 4. Reynolds
def _reynolds(run: RunRecord) -> Figure | None:
    a = run.arrays
    if not _format.has(a, "sweep_re", "sweep_error"):
        return None
    re_, err = np.asarray(a["sweep_re"], float), 100 * np.asarray(a["sweep_error"], float)
    fig = MplFigure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    if _format.has(a, "re_range"):
        lo, hi = (float(v) for v in np.ravel(a["re_range"])[:2])
        ax.axvspan(lo, hi, color="C2", alpha=0.15, label=f"trained range Re {lo:g}-{hi:g}")
    ax.scatter(re_, err, s=16, color=TEST_COLOUR, alpha=0.8, label="sample")
    order = np.argsort(re_)
    if len(re_) >= 10:
        edges = np.quantile(re_, np.linspace(0, 1, 9))
        centres, medians = [], []
        for left, right in itertools.pairwise(edges):
            sel = (re_ >= left) & (re_ <= right) & np.isfinite(err)
            if sel.any():
                centres.append(float(np.median(re_[sel])))
                medians.append(float(np.median(err[sel])))
        ax.plot(centres, medians, "k-", lw=1.2, label="binned median")
    else:
        ax.plot(re_[order], err[order], "k-", lw=0.6, alpha=0.5)
    ax.axhline(100 * TARGET_ERROR, color="k", ls="--", lw=0.9, label="target: 5 %")
    _format.log_y_if_wide(ax, err)
    ax.set_xlabel("Reynolds number Re = U L / ν")
    ax.set_ylabel("relative velocity error (%)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    card = Scorecard.from_metrics(run.metrics)
    ax.set_title(
        f"mean error below the range {pct(card.re_sweep_error_below)}, inside "
        f"{pct(card.re_sweep_error_inside)}, above {pct(card.re_sweep_error_above)}",
        fontsize=9,
    )
    return Figure(
        "surrogate_reynolds",
        "Relative velocity error of shapes of the training families against the Reynolds number, "
        "inside and outside the range the surrogate was trained on (shaded).",
        fig,
    )


# ---------------------------------------------------------------------------- 5. trust
def _trust(run: RunRecord) -> Figure | None:
    a = run.arrays
    if not _format.has(a, "trust_spread", "trust_error"):
        return None
    spread = np.ravel(np.asarray(a["trust_spread"], float))
    error = np.ravel(np.asarray(a["trust_error"], float))
    keep = np.isfinite(spread) & np.isfinite(error)
    spread, error = spread[keep], error[keep]
    if spread.size == 0:
        return None
    positive = np.concatenate([spread[spread > 0], error[error > 0]])
    floor = max(float(np.percentile(positive, 0.5)), 1e-12) if positive.size else 1e-6
    spread, error = np.maximum(spread, floor), np.maximum(error, floor)
    top = max(float(spread.max()), float(error.max()), floor * 10)
    bins = np.geomspace(floor, top * 1.01, 41)

    fig = MplFigure(figsize=(6, 5), layout="constrained")
    ax = fig.add_subplot()
    *_, im = ax.hist2d(spread, error, bins=[bins, bins], norm=LogNorm(), cmap="viridis", cmin=1)
    bar = fig.colorbar(im, ax=ax, label="pixels per bin")
    bar.ax.yaxis.set_major_formatter(mticker.FuncFormatter(_format.plain))
    bar.ax.yaxis.set_minor_formatter(mticker.FuncFormatter(_format.plain))
    ax.plot([floor, top], [floor, top], "k--", lw=0.9, label="error = spread")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(floor, top * 1.01)
    ax.set_ylim(floor, top * 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("ensemble spread σ/U per pixel (std of the members)")
    ax.set_ylabel("absolute error per pixel, |Δu|/U and |Δv|/U")
    ax.legend(fontsize=8, loc="upper left")
    card = Scorecard.from_metrics(run.metrics)
    ax.set_title(
        f"Spearman ρ: pixels {fmt(card.spread_error_spearman_pixels)}, "
        f"samples {fmt(card.spread_error_spearman_samples)}",
        fontsize=10,
    )
    return Figure(
        "surrogate_trust",
        f"Does the ensemble know where it is wrong? Spread against error for {spread.size:,} "
        "velocity components of fluid cells of the held-out shapes (log counts; values below "
        f"{floor:.1g} drawn at it). Spearman rank correlations: over pixels, and over samples "
        "(mean spread against relative velocity error).",
        fig,
    )


# ---------------------------------------------------------------------------- 6. warning
def _warning(run: RunRecord) -> Figure | None:
    a = run.arrays
    ood = run.metrics.get("ood") or {}
    if not (ood and _format.has(a, "heldout_ood_score", "heldout_error", "heldout_family")):
        return None
    score = np.asarray(a["heldout_ood_score"], float)
    error = 100 * np.asarray(a["heldout_error"], float)
    fam = np.asarray(a["heldout_family"]).astype(str)
    fig = MplFigure(figsize=(7, 5), layout="constrained")
    ax = fig.add_subplot()
    markers = itertools.cycle("osD^v<>px")
    for k, f in enumerate(_format.families(fam)):
        sel = fam == f
        ax.scatter(score[sel], error[sel], s=14, marker=next(markers), color=f"C{k}", label=f)
    large = 100 * float(ood["large_error"])
    ax.axvline(1.0, color="k", lw=0.9, ls="--", label="warning threshold")
    ax.axhline(large, color="C3", lw=0.9, label=f"large error: > {large:.2f} %")
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(mticker.FuncFormatter(_format.plain))
        axis.set_minor_formatter(mticker.FuncFormatter(_format.plain))
    ax.set_xlabel("out-of-distribution score (predicted error / threshold)")
    ax.set_ylabel("relative velocity error (%)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncols=2, loc="lower right")
    ax.set_title(
        f"AUROC {fmt(ood.get('auroc'))}; flagged {pct(ood.get('flagged_fraction'))}: recall "
        f"{pct(ood.get('recall'))}, precision {pct(ood.get('precision'))}",
        fontsize=9,
    )
    return Figure(
        "surrogate_warning",
        f"Does flowlearn predict's warning find the large errors? Each of the {len(score)} "
        "held-out samples: its out-of-distribution score (the error model's prediction over "
        "the 95th percentile of the validation samples'; above 1 the body is flagged) against "
        "its true error. Large: above the 90th percentile of the test error.",
        fig,
    )


# --------------------------------------------------------------------- 7. cost-accuracy
#: network markers of the cost-accuracy figure
_NET_STYLE = {"ensemble": ("C3", "*"), "one network": ("C1", "P"), "guo": (GUO_COLOUR, "X")}


def _cost_accuracy(run: RunRecord) -> Figure | None:
    speed = run.metrics.get("cost_accuracy") or {}
    sets = [k for k in ("test", "heldout") if speed.get(k) and speed[k].get("lbm")]
    if not sets:
        return None
    from flowlearn.evaluation.cost_accuracy import ERROR_FLOOR

    fig = MplFigure(figsize=(6.2 * len(sets), 5), layout="constrained")
    axes = np.ravel(fig.subplots(1, len(sets), squeeze=False))
    scale_colour = {1: "C0", 2: "C2", 4: "C4"}
    speed_marker = dict(
        zip(sorted({r["u_lattice"] for k in sets for r in speed[k]["lbm"]}), "os^D", strict=False)
    )
    for ax, key in zip(axes, sets, strict=True):
        summary = speed[key]
        rows = summary["lbm"]
        for (scale, u), group in itertools.groupby(
            sorted(rows, key=lambda r: (r["scale"], r["u_lattice"], -r["tol"])),
            key=lambda r: (r["scale"], r["u_lattice"]),
        ):
            group = list(group)
            t = [r["seconds"]["median"] * 1e3 for r in group]
            e = [max(r["error_mean"], ERROR_FLOOR) * 100 for r in group]
            fell = sum(sum(r["fallbacks"].values()) for r in group[:1])
            label = f"LBM {'grid' if scale == 1 else f'grid/{scale}'}, U {u:g}" + (
                f" ({fell} fallbacks)" if fell else ""
            )
            ax.plot(
                t,
                e,
                color=scale_colour.get(scale, "C5"),
                marker=speed_marker[u],
                ms=5,
                lw=0.8,
                alpha=0.85,
                label=label,
            )
        front = [r for r in rows if r["label"] in summary["front"]]
        front.sort(key=lambda r: r["seconds"]["median"])
        ax.plot(
            [r["seconds"]["median"] * 1e3 for r in front],
            [max(r["error_mean"], ERROR_FLOOR) * 100 for r in front],
            color="k",
            ls="--",
            lw=1.0,
            label="LBM's front (cheapest at each error)",
        )
        for name, net in summary["networks"].items():
            colour, marker = _NET_STYLE.get(name, ("C9", "o"))
            for b, st in net["seconds"].items():
                ax.scatter(
                    st["median"] * 1e3,
                    net["error_mean"] * 100,
                    s=90 if b != "1" else 60,
                    marker=marker,
                    color=colour if b != "1" else "none",
                    edgecolors=colour,
                    zorder=5,
                    label=f"{name}, batch {b}: x{net['equal_accuracy'][b]['speedup']:.1f}",
                )
                lo, hi = st["q25"] * 1e3, st["q75"] * 1e3
                ax.plot([lo, hi], [net["error_mean"] * 100] * 2, color=colour, lw=1.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(mticker.FuncFormatter(_format.plain))
        ax.set_xlabel("time per sample on one core (ms; median over the samples)")
        ax.set_ylabel("mean relative velocity error (%)")
        ax.grid(True, which="both", alpha=0.3)
        ax.set_title(
            f"{'test split' if key == 'test' else 'held-out families'}: "
            f"{summary['samples']} samples",
            fontsize=9,
        )
        ax.legend(fontsize=6, ncols=1, loc="lower left")
    return Figure(
        "surrogate_cost_accuracy",
        "Error against cost (McGreivy & Hakim 2024): the dataset's LBM run coarser (grid/2, "
        "/4), faster (larger lattice velocity) and stopped early (each line runs from the "
        "loosest steady tolerance, 1e-2, to the dataset's), timed sample by sample between "
        "the networks (filled: batch 64, hollow: batch 1; bars: the networks' quartiles over "
        "the samples). A network below the dashed front "
        "beats every LBM setting; the legend gives its speed-up at equal accuracy. The "
        f"dataset's recipe has zero error by definition and is drawn at {ERROR_FLOOR:.0e}.",
        fig,
    )


# ---------------------------------------------------------------------------- 8. curves
def _curves(run: RunRecord) -> Figure | None:
    a = run.arrays
    models = sorted(
        m.group(1) for k in a if (m := re.fullmatch(r"curve_(.+)_train", k)) and np.size(a[k])
    )
    if not models:
        return None
    guo = any(m.startswith("guo") for m in models)
    fig = MplFigure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    for k, model in enumerate(models):
        colour = f"C{k % 10}"
        train = np.asarray(a[f"curve_{model}_train"], float)
        ax.plot(np.arange(1, len(train) + 1), train, color=colour, label=model)
        val = a.get(f"curve_{model}_val")
        if val is not None and np.size(val):
            val = np.asarray(val, float)
            ax.plot(np.arange(1, len(val) + 1), val, color=colour, ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE loss (normalised fields)")
    ax.grid(True, which="both", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color="k"), Line2D([], [], color="k", ls="--")]
    labels += ["train", "validation"]
    ax.legend(handles, labels, fontsize=8, ncols=2)
    return Figure(
        "surrogate_curves",
        "Learning curves of every trained network ("
        + ("the ensemble's members and Guo et al.'s CNN" if guo else "the ensemble's members")
        + "): training loss solid, validation loss dashed.",
        fig,
    )

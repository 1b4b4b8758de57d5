"""Turbulence closure, the talk's slide "RANS modelling" (Ling, Kurzawski & Templeton, J. Fluid
Mech. 807, 2016): a Tensor Basis Neural Network learned from DNS, against eddy-viscosity models,
a plain MLP and a tensor-basis random forest, on flows it never saw.

- **data** (:mod:`flowlearn.data.rans`, real and offline): RANS inputs (k, epsilon or omega,
  the mean velocity gradient) with DNS / LES Reynolds stresses on the same cells: channels at
  Re_tau 180, 550, 590 and 2,000 (k-epsilon), ducts of aspect ratio 1 to 14 at Re_tau 180 and
  360 and the periodic hill at Re_H 10,595 (k-omega SST: epsilon = 0.09 k omega);
- **inputs and labels** (:mod:`flowlearn.physics.turbulence`): S and R normalised by k /
  epsilon and capped; b = tau / (2k) - I / 3; cells where the RANS or the DNS k is below
  ``k_floor`` times the flow's largest (the wall, where b is a ratio of vanishing numbers and the
  RANS time scale blows up) are left out of training and scoring, and counted;
- **models**: LEVM and the quadratic CLS model (no fitting), a tensor-basis random forest
  (scikit-learn), the MLP of Ling et al. (invariants in, b out), an MLP on the tensor components,
  and the TBNN (:mod:`flowlearn.models.turbulence`), the learned ones trained from several
  seeds so that a difference between models is compared with the seed spread;
- **the split is the issue's, fixed before any result**: train on the channels and the ducts of
  aspect ratio 1, 3 and 5 at Re_tau 180; validate (checkpoint choice) on the duct of aspect
  ratio 3 at Re_tau 360; test on the ducts of aspect ratio 7, 10 and 14, the square duct at
  Re_tau 360 and the periodic hill. Pinelli's square duct at Re_b 3,500 (Ling et al.'s own test
  case, another DNS and another RANS) is scored beside them, apart.

Outputs: per-component RMSE of b per model and flow, realizability violations, the duct's
b22 - b33 field, barycentric maps, and the TBNN's b and Reynolds stresses on every test flow as
OpenFOAM fields (``fields/<flow>/``).

Run: ``flowlearn run tbnn``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from flowlearn.baselines.turbulence import TensorBasisForest
from flowlearn.data import rans
from flowlearn.evaluation import turbulence as ev
from flowlearn.experiments._base import Claim, Experiment, ExperimentConfig, Result
from flowlearn.physics import turbulence as turb
from flowlearn.training.turbulence import ClosureSettings, train_closure

#: The issue's split (fixed here so that no split is chosen for its result).
TRAIN = (
    "channel_Re180",
    "channel_Re550",
    "channel_Re590",
    "channel_Re2000",
    "duct_AR1_Re180",
    "duct_AR3_Re180",
    "duct_AR5_Re180",
)
VALIDATE = ("duct_AR3_Re360",)
TEST = ("duct_AR7_Re180", "duct_AR10_Re180", "duct_AR14_Re180", "duct_AR1_Re360", "hill_Re10595")
BEYOND = ("duct_pinelli_Reb3500",)
#: Models in the order of the table; the networks are trained, the others fitted or fixed.
NETWORKS = ("tbnn", "mlp", "mlp-components")
LABELS = {
    "levm": "LEVM",
    "qevm": "QEVM",
    "tbrf": "TBRF",
    "mlp": "MLP",
    "mlp-components": "MLP (components)",
    "tbnn": "TBNN",
}
#: The duct whose b22 - b33 field is drawn (square, as Ling et al.'s figure).
DRIVER_FLOW = "duct_AR1_Re360"
#: Reflection y -> -y: a duct's neighbouring quadrant.
MIRROR = np.diag([1.0, -1.0, 1.0])
#: Cells per flow kept for the barycentric-map figure.
MAP_CELLS = 2500


class Config(ExperimentConfig):
    train: list[str] = Field(list(TRAIN), description="flows trained on (the issue's split)")
    validation: list[str] = Field(list(VALIDATE), description="flows choosing the checkpoints")
    test: list[str] = Field(list(TEST), description="flows never seen, scored")
    beyond: list[str] = Field(list(BEYOND), description="other data scored apart")
    models: list[str] = Field(list(LABELS), description="models compared")
    k_floor: float = Field(
        1e-3, ge=0, lt=1, description="cells with k below this share of the flow's largest: out"
    )
    cap: float = Field(turb.CAP, gt=0, description="largest normalised strain / rotation rate")
    train_cells: int = Field(0, ge=0, description="cells drawn for training (0: all)")
    width: int = Field(64, ge=2, le=1024)
    depth: int = Field(4, ge=1, le=12)
    members: int = Field(5, ge=1, le=32, description="seeds per learned model")
    epochs: int = Field(150, ge=1, le=100_000)
    batch_size: int = Field(256, ge=1, le=65_536)
    lr: float = Field(1e-3, gt=0, le=1.0)
    weight_decay: float = Field(0.0, ge=0)
    forest_trees: int = Field(100, ge=1, le=10_000)
    forest_leaf: int = Field(5, ge=1)
    write_fields: bool = Field(True, description="write the TBNN's b as OpenFOAM fields")
    data_dir: str | None = Field(None, description="folder holding the RANS data (rans/)")

    @field_validator("train", "validation", "test", "beyond")
    @classmethod
    def _known_flows(cls, v: list[str]) -> list[str]:
        unknown = [f for f in v if f not in rans.FLOWS]
        if unknown:
            raise ValueError(f"unknown flows {', '.join(unknown)}; known: {', '.join(rans.FLOWS)}")
        return v

    @field_validator("models")
    @classmethod
    def _known_models(cls, v: list[str]) -> list[str]:
        unknown = [m for m in v if m not in LABELS]
        if unknown:
            raise ValueError(f"unknown models {', '.join(unknown)}; known: {', '.join(LABELS)}")
        if "tbnn" not in v:
            raise ValueError("the comparison needs the tbnn model")
        return v


def _say(text: str) -> None:
    print(text, flush=True)


# ------------------------------------------------------------------------------ data
class Prepared:
    """One flow's inputs ``X``, labels ``b`` and the cells scored (``keep``), with counts."""

    def __init__(self, flow: rans.RansFlow, config: Config) -> None:
        if flow.tau is None:
            raise ValueError(f"{flow.name}: no DNS / LES stresses to learn or score against")
        self.flow = flow
        inputs = turb.normalised_tensors(flow.grad_u, flow.k, flow.epsilon, config.cap)
        self.X, self.capped = inputs.X, inputs.capped
        k_dns = turb.trace(flow.tau) / 2
        self.keep = (flow.k > config.k_floor * flow.k.max()) & (
            k_dns > config.k_floor * k_dns.max()
        )
        self.b = np.zeros_like(flow.tau)
        self.b[self.keep] = turb.anisotropy(flow.tau[self.keep])

    @property
    def counts(self) -> dict[str, Any]:
        return {
            "cells": int(self.flow.n),
            "scored": int(self.keep.sum()),
            "near_wall_excluded": int((~self.keep).sum()),
            "capped": self.capped,
            "dropped": dict(self.flow.dropped),
            "inputs": self.flow.meta.get("inputs", ""),
            "labels": self.flow.meta.get("labels", ""),
        }


def load(names: list[str], config: Config) -> dict[str, Prepared]:
    out = {}
    for name in names:
        flow = rans.load_flow(name, config.data_dir, drop_invalid=True)
        out[name] = Prepared(flow, config)
    return out


def _training_set(flows: dict[str, Prepared], config: Config, rng) -> tuple[np.ndarray, ...]:
    X = np.concatenate([p.X[p.keep] for p in flows.values()])
    b = np.concatenate([p.b[p.keep] for p in flows.values()])
    if config.train_cells and config.train_cells < len(X):
        idx = np.sort(rng.choice(len(X), config.train_cells, replace=False))
        X, b = X[idx], b[idx]
    return X, b


# ------------------------------------------------------------------------------ run
def run(config: Config, run_dir: Path) -> Result:
    rng = np.random.default_rng(config.seed)
    start = time.perf_counter()
    train = load(config.train, config)
    val = load(config.validation, config)
    test = load(config.test, config)
    beyond = load(config.beyond, config) if config.beyond else {}
    X, b = _training_set(train, config, rng)
    Xv = np.concatenate([p.X[p.keep] for p in val.values()])
    bv = np.concatenate([p.b[p.keep] for p in val.values()])
    _say(f"tbnn: {len(X):,} training cells from {len(train)} flows, {len(Xv):,} validation cells")
    m: dict[str, Any] = {
        "split": {
            "train": config.train,
            "validation": config.validation,
            "test": config.test,
            "beyond": config.beyond,
        },
        "flows": {n: p.counts for part in (train, val, test, beyond) for n, p in part.items()},
        "train_cells": len(X),
        "data_seconds": time.perf_counter() - start,
    }
    members: dict[str, list[Any]] = {}
    a: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    for name in config.models:
        t0 = time.perf_counter()
        if name == "levm":
            members[name] = [turb.LinearEddyViscosity()]
        elif name == "qevm":
            members[name] = [turb.QuadraticEddyViscosity()]
        elif name == "tbrf":
            members[name] = [
                TensorBasisForest(
                    config.forest_trees, config.forest_leaf, seed=config.seed + k
                ).fit(X, b)
                for k in range(config.members)
            ]
        else:
            settings = ClosureSettings(
                kind=name,
                width=config.width,
                depth=config.depth,
                epochs=config.epochs,
                batch_size=config.batch_size,
                lr=config.lr,
                weight_decay=config.weight_decay,
                members=config.members,
                seed=config.seed,
                config=config.model_dump(),
            )
            trained = train_closure(X, b, Xv, bv, settings, run_dir / "networks")
            members[name] = trained.ensemble.split()
            for k, hist in enumerate(trained.histories):
                a[f"history_{name}_{k}_train"] = np.array([h["train_loss"] for h in hist])
                a[f"history_{name}_{k}_val"] = np.array([h["val_loss"] for h in hist])
        seconds[name] = time.perf_counter() - t0
        _say(f"tbnn: {LABELS[name]} ready in {seconds[name]:.1f} s")
    m["fit_seconds"] = seconds
    m["scores"] = evaluate(members, {**val, **test, **beyond}, config, a)
    m["summary"] = summarise(m["scores"], config)
    if config.write_fields:
        m["fields"] = write_fields(members["tbnn"], test, run_dir / "fields")
    m["targets"] = targets(m)
    return Result(metrics=m, claims=claims(config, m), arrays=a)


def _is_duct(p: Prepared) -> bool:
    return p.flow.kind == "duct"


def evaluate(
    members: dict[str, list[Any]], flows: dict[str, Prepared], config: Config, a: dict
) -> dict[str, Any]:
    """Per flow and model: each member's score and the ensemble mean's; arrays for the figures."""
    out: dict[str, Any] = {}
    rng = np.random.default_rng(config.seed + 1)
    for fname, p in flows.items():
        X, b = p.X[p.keep], p.b[p.keep]
        show = np.sort(rng.choice(len(X), min(MAP_CELLS, len(X)), replace=False))
        a[f"map_{fname}_dns"] = turb.barycentric(b[show]).astype(np.float32)
        res: dict[str, Any] = {}
        for name, ms in members.items():
            preds = [mm.predict(X) for mm in ms]
            mean = np.mean(preds, 0)
            per = [ev.score(pr, b, _is_duct(p)) for pr in preds]
            res[name] = {
                "members": [s["rmse"]["all"] for s in per],
                "ensemble": ev.score(mean, b, _is_duct(p)),
                "projected_rmse": ev.component_rmse(turb.project_realizable(mean), b)["all"],
            }
            if _is_duct(p):
                res[name]["driver_members"] = [s["driver"]["rmse"] for s in per]
                # the neighbouring quadrant of the same duct (y -> -y): the same flow, seen in
                # another frame; a closure that rotates with the flow scores the same there
                Xm, bm = MIRROR @ X @ MIRROR, MIRROR @ b @ MIRROR
                res[name]["mirrored"] = ev.component_rmse(
                    np.mean([mm.predict(Xm) for mm in ms], 0), bm
                )["all"]
            a[f"map_{fname}_{name}"] = turb.barycentric(mean[show]).astype(np.float32)
            if fname == DRIVER_FLOW:
                a[f"driver_{name}"] = ev.secondary_driver(mean).astype(np.float32)
        if fname == DRIVER_FLOW and p.flow.coords is not None:
            a["driver_dns"] = ev.secondary_driver(b).astype(np.float32)
            a["driver_y"] = p.flow.coords[p.keep, 1].astype(np.float32)
            a["driver_z"] = p.flow.coords[p.keep, 2].astype(np.float32)
        if "tbnn" in members:
            res["outside_share"] = float(np.mean(members["tbnn"][0].outside(X)))
        out[fname] = res
        line = ", ".join(f"{LABELS[n]} {res[n]['ensemble']['rmse']['all']:.4f}" for n in members)
        _say(f"tbnn: {fname}: RMSE(b) {line}")
    return out


def summarise(scores: dict[str, Any], config: Config) -> dict[str, Any]:
    """Per model, over the test flows (each weighted equally): the members' mean RMSE and its
    spread, the ensemble's, violations, and the ducts' b22 - b33 error."""
    out: dict[str, Any] = {}
    ducts = [f for f in config.test if f.startswith("duct")]
    for name in config.models:
        per_member = np.array([scores[f][name]["members"] for f in config.test])  # (flows, K)
        out[name] = {
            "test": ev.spread(per_member.mean(0)),
            "ensemble": ev.flow_mean(
                {f: scores[f][name]["ensemble"]["rmse"]["all"] for f in config.test}
            ),
            "components": {
                c: ev.flow_mean({f: scores[f][name]["ensemble"]["rmse"][c] for f in config.test})
                for c in turb.COMPONENT_NAMES
            },
            "violations": ev.flow_mean(
                {f: scores[f][name]["ensemble"]["violations"] for f in config.test}
            ),
            "validation": ev.flow_mean(
                {f: scores[f][name]["ensemble"]["rmse"]["all"] for f in config.validation}
            ),
        }
        if ducts:
            duct_members = np.array([scores[f][name]["members"] for f in ducts]).mean(0)
            out[name]["ducts"] = ev.spread(duct_members)
            drv = np.array([scores[f][name]["driver_members"] for f in ducts]).mean(0)
            out[name]["driver"] = ev.spread(drv)
            out[name]["mirrored"] = ev.flow_mean({f: scores[f][name]["mirrored"] for f in ducts})
            out[name]["driver_corr"] = ev.flow_mean(
                {f: scores[f][name]["ensemble"]["driver"]["corr"] for f in ducts}
            )
    return out


def write_fields(members: list[Any], flows: dict[str, Prepared], folder: Path) -> dict[str, Any]:
    """The TBNN ensemble's b (dimensionless) and Reynolds stresses (the RANS k's units squared
    velocity) on every cell of each test flow, as OpenFOAM volSymmTensorFields in the flow's
    cell order; the near-wall band is predicted too, outside what was trained."""
    written = {}
    for fname, p in flows.items():
        b = np.mean([mm.predict(p.X) for mm in members], 0)
        where = folder / fname
        where.mkdir(parents=True, exist_ok=True)
        note = (
            f"TBNN anisotropy for {fname}, flowlearn run tbnn; b = tau/(2k) - I/3 "
            "(dimensionless, tau = <u_i' u_j'>); cells in the order of the input table"
        )
        rans.write_foam_field(where / "b_TBNN", b, "b_TBNN", note=note, overwrite=True)
        tau = turb.reynolds_stress(b, p.flow.k)
        rans.write_foam_field(
            where / "R_TBNN",
            tau,
            "R_TBNN",
            dimensions="[0 2 -2 0 0 0 0]",
            note=note.replace("anisotropy", "Reynolds stress 2k(b + I/3) with the RANS k"),
            overwrite=True,
        )
        written[fname] = {"cells": int(p.flow.n), "files": ["b_TBNN", "R_TBNN"]}
    return written


def targets(m: dict[str, Any]) -> dict[str, bool]:
    s = m["summary"]
    out = {"tbnn_beats_mlp": ev.beats(s["tbnn"]["test"], s["mlp"]["test"]) if "mlp" in s else None}
    have = [n for n in ("tbnn", "qevm", "levm") if n in s]
    out["tbnn_qevm_levm"] = ev.ordering({n: s[n]["test"] for n in have}, have)
    return out


# --------------------------------------------------------------------------------- claims
def _f(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _err(s: dict[str, Any]) -> str:
    t = s["test"]
    return f"{t['mean']:.4f}" + (f" +- {t['std']:.4f}" if t["members"] > 1 else "")


def _mirrored(s: dict[str, Any]) -> str:
    tb, mlp = s.get("tbnn", {}), s.get("mlp", {})
    if "ducts" not in tb or "ducts" not in mlp:
        return ""
    below = "below" if ev.beats(tb["ducts"], mlp["ducts"]) else "not below"
    return (
        f"; on the unseen ducts alone TBNN {_err({'test': tb['ducts']})} against MLP "
        f"{_err({'test': mlp['ducts']})} ({below} beyond the spread), and seen from their "
        f"neighbouring quadrant (y -> -y, the same flows) MLP {_f(mlp['mirrored']):.4f}, TBNN "
        f"{_f(tb['mirrored']):.4f} (it rotates with the flow)"
    )


def claims(config: Config, metrics: dict[str, Any]) -> list[Claim]:
    s = metrics["summary"]
    tb = s["tbnn"]
    order = [n for n in ("tbnn", "qevm", "levm") if n in s]
    errors = {n: s[n]["test"] for n in s}
    listing = ", ".join(f"{LABELS[n]} {_err(s[n])}" for n in s)
    flows = len(config.test)
    out = []
    if "mlp" in s:
        out.append(
            Claim(
                slide="RANS modelling: a network with invariance built in beats a plain one",
                talk="TBNN below the MLP on unseen flows",
                measured=f"mean RMSE(b) over {flows} unseen flows (members' mean +- std): "
                + listing
                + _mirrored(s),
                reproduced=ev.beats(errors["tbnn"], errors["mlp"]),
                reason="reproduced when every TBNN member's test error is below every MLP "
                "member's (the difference beats the seed spread); the MLP is Ling et al.'s: "
                "the same invariants in, b out.",
            )
        )
    out.append(
        Claim(
            slide="RANS modelling: TBNN < QEVM < LEVM",
            talk="TBNN below the quadratic, the quadratic below the linear eddy viscosity",
            measured=f"mean RMSE(b) over {flows} unseen flows: "
            + ", ".join(f"{LABELS[n]} {_err(s[n])}" for n in order),
            reproduced=ev.ordering(errors, order),
            reason="reproduced when the ordering holds beyond the seed spread (every TBNN "
            "member below the QEVM, and the QEVM below the LEVM).",
        )
    )
    if "driver" in tb and "levm" in s:
        out.append(
            Claim(
                slide="RANS modelling: the TBNN predicts the duct's secondary flow",
                talk="b22 - b33 (zero for LEVM) predicted",
                measured=f"unseen ducts: b22 - b33 correlation with DNS {tb['driver_corr']:.2f} "
                f"(TBNN), {_f(s['qevm']['driver_corr']) if 'qevm' in s else float('nan'):.2f} "
                f"(QEVM), 0 (LEVM); RMSE {tb['driver']['mean']:.4f} against LEVM's "
                f"{s['levm']['driver']['mean']:.4f}",
                reproduced=bool(
                    tb["driver_corr"] > 0.5 and ev.beats(tb["driver"], s["levm"]["driver"])
                ),
                reason="reproduced when the TBNN's b22 - b33 correlates with the DNS's (r > 0.5) "
                "and every member's error on it is below LEVM's, which predicts none.",
            )
        )
    return out


EXPERIMENT = Experiment(
    name="tbnn",
    title="Turbulence closure: a Tensor Basis Neural Network learned from DNS",
    claim="A network with Galilean invariance built in beats a plain MLP and eddy-viscosity "
    "models on flows it never saw (Ling et al. 2016).",
    order=250,
    config=Config,
    run=run,
    quick={
        "train_cells": 4000,
        "members": 3,
        "epochs": 30,
        "batch_size": 128,
        "width": 32,
        "depth": 3,
        "forest_trees": 30,
        "models": ["levm", "qevm", "tbrf", "mlp", "tbnn"],
    },
    runtime_quick="~30 s",
    # measured on 2 CPU cores: quick 31 s, full 9.3 min (8.7 of it training 15 networks)
    runtime_full="~9.5 min",
    claims=claims,
)


# ------------------------------------------------------------------------- using a run
class TrainedTBNN:
    """A tbnn run's TBNN ensemble read back from its directory, applied to any flow: ``config``,
    ``ensemble`` and :meth:`predict`."""

    def __init__(self, run_dir: str | Path) -> None:
        from flowlearn.experiments._runs import load_run
        from flowlearn.training.turbulence import load_closure

        run = load_run(Path(run_dir))
        if run.experiment != "tbnn":
            raise ValueError(f"{run_dir} is a {run.experiment} run, not a tbnn run")
        self.config = Config.model_validate(
            {k: v for k, v in run.config.items() if k != "experiment"}
        )
        self.ensemble = load_closure(
            Path(run_dir) / "networks", "tbnn", self.config.width, self.config.depth
        )

    def predict(self, flow: rans.RansFlow) -> dict[str, Any]:
        """The ensemble's b on every cell of ``flow``, the Reynolds stresses with the flow's
        RANS k, the share of cells outside the trained invariants, and, when the flow carries
        DNS / LES stresses, the RMSE of b against them beside LEVM's on the scored cells."""
        inputs = turb.normalised_tensors(flow.grad_u, flow.k, flow.epsilon, self.config.cap)
        X = inputs.X
        b = self.ensemble.predict(X)
        out: dict[str, Any] = {
            "b": b,
            "tau": turb.reynolds_stress(b, flow.k),
            "outside_share": float(np.mean(self.ensemble.outside(X))),
            "violations": ev.violations(b),
            "capped": inputs.capped,
        }
        if flow.tau is not None:
            p = Prepared(flow, self.config)
            out["scored"] = int(p.keep.sum())
            out["rmse"] = ev.component_rmse(b[p.keep], p.b[p.keep])
            levm = turb.LinearEddyViscosity().predict(X[p.keep])
            out["rmse_levm"] = ev.component_rmse(levm, p.b[p.keep])
        return out

    def write(self, flow: rans.RansFlow, b: np.ndarray, folder: Path, overwrite: bool) -> list:
        """``b_TBNN`` and ``R_TBNN`` (OpenFOAM volSymmTensorFields) in ``folder``; nothing else
        there is touched. Refuses existing files unless ``overwrite``."""
        note = (
            f"TBNN anisotropy for {flow.name}, flowlearn closure predict; b = tau/(2k) - I/3 "
            "(dimensionless, tau = <u_i' u_j'>); cells in the order of the input table"
        )
        paths = [folder / "b_TBNN", folder / "R_TBNN"]
        if not overwrite:
            for path in paths:
                if path.exists():
                    raise FileExistsError(f"{path} exists: pass --overwrite to replace it")
        rans.write_foam_field(paths[0], b, "b_TBNN", note=note, overwrite=overwrite)
        rans.write_foam_field(
            paths[1],
            turb.reynolds_stress(b, flow.k),
            "R_TBNN",
            dimensions="[0 2 -2 0 0 0 0]",
            note=note.replace("anisotropy", "Reynolds stress 2k(b + I/3) with the RANS k"),
            overwrite=overwrite,
        )
        return paths

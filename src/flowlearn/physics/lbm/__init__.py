"""Lattice Boltzmann solver on lbmpy-generated kernels (D2Q9 / D3Q19, TRT or BGK).

Quick start (Schäfer–Turek 2D-1: 440 x 82 cells, ~31k steps, about a minute on 2 cores)::

    from flowlearn.physics.lbm import cases, output
    case = cases.schafer_turek(re=20, cells_per_diameter=20)
    report = case.solver.run(60_000, check_every=500, steady_tol=2e-8)
    print(case.coefficients())          # {'cd': 5.591, 'cl': 0.0103}
    print(case.pressure_drop())         # 0.1169 (reference 0.1172-0.1176)
    ds = case.dataset()                 # xarray.Dataset: u, v, p, rho, vorticity, mask, sdf
    output.write(ds, "cylinder.zarr")   # or .nc, .vtk, .vti
"""

from flowlearn.physics.lbm import cases, observables, output
from flowlearn.physics.lbm._kernels import (
    Lattice,
    default_threads,
    lattice,
    vector_instruction_set,
)
from flowlearn.physics.lbm.boundaries import (
    ConvectiveOutflow,
    MovingObstacle,
    MovingWall,
    NoSlipWall,
    Obstacle,
    Outflow,
    PressureOutlet,
    VelocityInlet,
)
from flowlearn.physics.lbm.cases import Case
from flowlearn.physics.lbm.collision import BGK, TRT
from flowlearn.physics.lbm.forces import coefficients
from flowlearn.physics.lbm.solver import (
    DivergenceError,
    RunReport,
    Solver,
    make_solver,
    solver_memory,
)
from flowlearn.physics.lbm.state import StateError, load_state, save_state
from flowlearn.physics.lbm.units import LatticeUnits, StabilityWarning

__all__ = [
    "BGK",
    "TRT",
    "Case",
    "ConvectiveOutflow",
    "DivergenceError",
    "Lattice",
    "LatticeUnits",
    "MovingObstacle",
    "MovingWall",
    "NoSlipWall",
    "Obstacle",
    "Outflow",
    "PressureOutlet",
    "RunReport",
    "Solver",
    "StabilityWarning",
    "StateError",
    "VelocityInlet",
    "cases",
    "coefficients",
    "default_threads",
    "lattice",
    "load_state",
    "make_solver",
    "observables",
    "output",
    "save_state",
    "solver_memory",
    "vector_instruction_set",
]

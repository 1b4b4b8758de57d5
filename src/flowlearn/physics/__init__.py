"""Solvers and physical models: lattice Boltzmann, geometry, chemistry, turbulence."""

"""Metrics, generalisation sweeps, physics diagnostics, speed benchmarks."""

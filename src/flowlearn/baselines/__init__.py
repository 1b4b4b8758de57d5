"""Classical methods shaped like scikit-learn: ``fit`` / ``predict``, learned state in ``attr_``."""

from flowlearn.baselines.modes import DMD, POD
from flowlearn.baselines.polynomial import PolynomialRegression
from flowlearn.baselines.raisr import Raisr

__all__ = ["DMD", "POD", "PolynomialRegression", "Raisr"]

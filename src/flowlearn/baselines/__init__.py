"""Classical methods with the scikit-learn shape: ``fit`` / ``predict``, learned state in ``attr_``."""

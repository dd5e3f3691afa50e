"""tcbot: the #TherapistsConnect bot. This package holds everything that acts."""

__version__ = "0.1.0"

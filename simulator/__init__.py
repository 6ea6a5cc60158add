"""A stateful, standalone implementation of the TOS cloud platform's /v1 manager API.

Run it with ``python -m simulator --help``. Tests can use :func:`simulator.testing.run_simulator`.
"""
from __future__ import annotations

__all__ = ["__version__"]
__version__ = "1.0.0"

"""Modularity measures: Newman Q, exact maximum Q, normalised Qm, and a memoising cache."""
from .newman import newman_q
from .exact import MaxQResult, max_q, solve_max_q
from .null_models import QmResult, qm
from .cache import ModularityCache

__all__ = ["newman_q", "MaxQResult", "solve_max_q", "max_q", "QmResult", "qm", "ModularityCache"]

"""Modularity measures: Newman Q, exact maximum Q, chance-corrected Qm and z against named null
models, and a memoising cache."""
from .newman import newman_q
from .exact import MaxQResult, max_q, solve_max_q
from .null_models import DegreePreserving, LayerPermutation, NullModel
from .normalised import QmResult, anneal_max_q, q_max, qm
from .cache import ModularityCache

__all__ = ["newman_q", "MaxQResult", "solve_max_q", "max_q", "NullModel", "DegreePreserving",
           "LayerPermutation", "QmResult", "qm", "q_max", "anneal_max_q", "ModularityCache"]

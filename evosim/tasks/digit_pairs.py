"""Digit pairs (source document 001): two digits side by side, the target a x + b y of their
values. The task has no genome (gradient mode trains it, ``evosim.gradient``): it names its goals
and builds its schedules, whose goals are coefficient pairs rather than truth tables."""
from __future__ import annotations

import re

import numpy as np

from evosim.goals import Schedule

DIGIT_GOAL = re.compile(r"^(-?\d+)x([+-]\d+)y$")


class DigitGoals:
    """Goals a x + b y, named like ``1x+1y`` or ``3x-5y``; targets are the coefficient pairs."""

    n_rows = 0

    def names(self) -> list[str]:
        return ["1x+1y", "1x-1y", "...: any ax+by with integers a, b"]

    def rmvg_names(self) -> list[str]:
        return []

    def target(self, name: str) -> np.ndarray:
        match = DIGIT_GOAL.match(name)
        if not match:
            raise ValueError(f"goal {name!r} is not of the form ax+by, e.g. 1x+1y or 3x-5y")
        return np.array([int(match.group(1)), int(match.group(2))], dtype=np.int8)


def digit_schedule(kind: str, n_epochs: int, period: int, goal: str, goals, rng) -> Schedule:
    """fixed: ``goal`` throughout; mvg: cycle through ``goals``; rmvg (source document 001): a x + b
    y with a, b uniform in [-8, 8] without 0, new every period, and a = b = 1 in the last period."""
    family = DigitGoals()
    epochs = np.arange(n_epochs) // period
    n_periods = int(epochs[-1]) + 1
    if kind == "fixed":
        per_period = [goal] * n_periods
    elif kind == "mvg":
        per_period = [goals[e % len(goals)] for e in range(n_periods)]
    elif kind == "rmvg":
        values = np.array([v for v in range(-8, 9) if v])
        per_period = [f"{a}x{b:+d}y" for a, b in rng.choice(values, size=(n_periods, 2))]
        per_period[-1] = "1x+1y"
    else:
        raise ValueError(f"schedule.kind {kind!r} is not defined for digit-pairs; "
                         "allowed: fixed, mvg, rmvg")
    names = list(dict.fromkeys(per_period))
    index = np.array([names.index(n) for n in per_period])[epochs].astype(np.int32)
    return Schedule(kind=kind, period=period, names=tuple(names),
                    targets=np.stack([family.target(n) for n in names]), goal_index=index)




class DigitPairsTask:
    """Digit pairs have no genome: the task names its goals and builds its schedules."""

    name = "digit-pairs"
    regression = True  # its goals are values to fit (a loss to lower), not truth tables to solve
    n_inputs = 0
    layouts = ()
    schedules = ("fixed", "mvg", "rmvg")

    def __init__(self):
        self.goals = DigitGoals()

    def goal_names(self) -> list[str]:
        return self.goals.names()

    def supports_rmvg(self) -> bool:
        return True

    @staticmethod
    def schedule(kind: str, rows: int, period: int, goal: str, goals, rng) -> Schedule:
        """The goals of ``rows`` training epochs (see ``digit_schedule``)."""
        return digit_schedule(kind, rows, period, goal, goals, rng)

"""Goals (target truth tables) and the schedules that say which goal holds in each generation.

A schedule is computed once for the whole run from its own random stream, so every backend, a
resumed run and an analysis script all see the same goal sequence. Row convention (DESIGN.md):
``target[r]`` is the wanted output for input row r, where input i is ``(r >> i) & 1``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

SCHEDULE_KINDS = ("fixed", "mvg", "rmvg", "random", "rvg-c", "rvg-v", "vg0")
ALTERNATING = ("rvg-c", "rvg-v", "vg0")  # Kashtan, Noor & Alon 2007's controls: goal <-> other
NO_SELECTION = "none"  # vg0's other epochs: no goal selects (the goal's table is still scored)

# The ten two-input Boolean functions that depend on both arguments: RMVG's choices of F.
BINARY_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "AND": lambda a, b: a & b,
    "OR": lambda a, b: a | b,
    "NAND": lambda a, b: 1 - (a & b),
    "NOR": lambda a, b: 1 - (a | b),
    "XOR": lambda a, b: a ^ b,
    "XNOR": lambda a, b: 1 - (a ^ b),
    "ANDNOT": lambda a, b: a & (1 - b),
    "NOTAND": lambda a, b: (1 - a) & b,
    "ORNOT": lambda a, b: a | (1 - b),
    "NOTOR": lambda a, b: (1 - a) | b,
}


def input_bits(n_inputs: int) -> np.ndarray:
    """uint8[n_inputs, 2**n_inputs]: the value of each input in each row."""
    rows = np.arange(2**n_inputs)
    return ((rows[None, :] >> np.arange(n_inputs)[:, None]) & 1).astype(np.uint8)


@dataclass(frozen=True)
class Schedule:
    """Which goal holds in each generation, and the table of goals used.

    Goal epochs are blocks of ``period`` rows (for a fixed goal too, so every run is summarised
    the same way).  ``offset`` is 0 in evolution, where generation 0 (the random population) is
    the first row of epoch 0, and 1 in gradient mode, where epoch 0 (the untrained network) is
    measured under the first goal and the periods cover the training epochs 1..N."""

    kind: str
    period: int
    names: tuple[str, ...]          # one per row of targets
    targets: np.ndarray             # uint8[n_goals, n_rows]
    goal_index: np.ndarray          # int32[n_generations]: row of targets in force
    offset: int = 0
    selected: np.ndarray | None = None  # bool[n_generations]: False where nothing selects (vg0)

    def goal_at(self, generation: int) -> int:
        return int(self.goal_index[generation])

    def switches(self) -> np.ndarray:
        """Generations at which the goal changes."""
        return np.flatnonzero(np.diff(self.goal_index)) + 1

    def epoch_of(self, rows) -> np.ndarray:
        """The goal epoch of each row (generation or training epoch)."""
        return np.maximum(np.asarray(rows) - self.offset, 0) // self.period

    def phase_end(self, rows, every: int) -> np.ndarray:
        """Rows that end a block of ``every`` rows in step with the epochs (every is a multiple
        of the period: they end epochs), so sampling never falls on the row after a switch."""
        return (np.asarray(rows) + 1 - self.offset) % every == 0

    def goal_epoch_number(self, epochs) -> np.ndarray:
        """The 1-based count of each epoch among the epochs with selection (``epoch + 1`` when
        every epoch selects); 0 for an epoch without selection (vg0)."""
        epochs = np.asarray(epochs)
        if self.selected is None:
            return epochs + 1
        of_row = self.epoch_of(np.arange(self.selected.size))
        selects = np.zeros(int(of_row.max()) + 1, dtype=bool)
        selects[of_row] = self.selected
        return np.where(selects[epochs], np.cumsum(selects)[epochs], 0)

    def sampled_epochs(self, epochs, every: int) -> np.ndarray:
        """Whether each epoch is one whose networks get the costly measures (Qm): every
        ``every``-th goal epoch, and the goal epoch before it where its goal differs. Under two
        alternating goals the multiples of an even ``every`` all fall on the second goal; its
        partner measures the first as often. A fixed goal samples every ``every``-th epoch."""
        epochs = np.asarray(epochs)
        rows = self.goal_index.size
        every_epoch = np.arange(int(self.epoch_of(rows - 1)) + 1)
        number = self.goal_epoch_number(every_epoch)
        goal = self.goal_index[np.minimum(every_epoch * self.period + self.offset, rows - 1)]
        due = (number > 0) & (number % every == 0)
        epoch_numbered = np.full(int(number.max()) + 1, -1)
        epoch_numbered[number[number > 0]] = every_epoch[number > 0]
        late = every_epoch[due & (number > 1)]
        before = epoch_numbered[number[late] - 1]
        due[before[goal[before] != goal[late]]] = True
        return due[epochs]

    def after_untrained_row(self) -> "Schedule":
        """This schedule over rows 1..N, with a row 0 (an untrained network) under the first goal."""
        prepend = (lambda a: None if a is None else np.concatenate([a[:1], a]))
        return dataclasses.replace(self, offset=1, goal_index=prepend(self.goal_index),
                                   selected=prepend(self.selected))


def make_schedule(kind: str, family: "GoalFamily", n_generations: int, *, period: int = 20,
                  goal: str = "G1", goals: Sequence[str] = ("G1", "G2"),
                  rng: np.random.Generator | None = None) -> Schedule:
    """Build the schedule of a run over generations 0 .. n_generations - 1.

    fixed: ``goal`` throughout. mvg: cycle through ``goals``, switching every ``period``.
    rmvg: at each switch a different member of the family's shared-sub-goal set (F(x^y, z^w)).
    random: at each switch a different uniformly random truth table (no shared sub-goals).
    The controls of Kashtan, Noor & Alon (2007) alternate ``goal`` with another epoch each
    ``period``: rvg-c with one random truth table drawn for the whole run (RVG_c), rvg-v with a
    new random table each time (RVG_v), vg0 with an epoch of no selection (VG_0: survival at
    random, the goal ``none`` in the table, scored on ``goal``'s table so records stay readable).
    Random tables always differ from ``goal``'s.
    """
    epochs = np.arange(n_generations) // period
    n_epochs = int(epochs[-1]) + 1 if n_generations else 0
    if kind == "fixed":
        names, per_epoch = [goal], np.zeros(n_epochs, dtype=np.int64)
    elif kind == "mvg":
        names = list(dict.fromkeys(goals))
        per_epoch = np.array([names.index(goals[e % len(goals)]) for e in range(n_epochs)],
                             dtype=np.int64)
    elif kind == "rmvg":
        names = family.rmvg_names()
        start = names.index(goal) if goal in names else 0
        per_epoch = _walk_without_repeats(rng, len(names), n_epochs, start)
    elif kind == "random":
        names, per_epoch = _random_tables(rng, family.n_rows, n_epochs)
    elif kind in ALTERNATING:
        names, per_epoch = _alternating(kind, family, goal, n_epochs, rng)
    else:
        raise ValueError(f"schedule kind {kind!r}; allowed: {', '.join(SCHEDULE_KINDS)}")
    targets = np.stack([family.target(goal if name == NO_SELECTION else name) for name in names])
    used = np.unique(per_epoch)
    remap = np.full(len(names), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    goal_index = remap[per_epoch[epochs]].astype(np.int32)
    names = tuple(names[i] for i in used)
    selected = goal_index != names.index(NO_SELECTION) if NO_SELECTION in names else None
    return Schedule(kind=kind, period=period, names=names, targets=targets[used],
                    goal_index=goal_index, selected=selected)


def _alternating(kind: str, family: "GoalFamily", goal: str, n_epochs: int,
                 rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """``goal`` in even epochs; in odd ones no selection (vg0), one random table (rvg-c) or a
    new one each time (rvg-v), never ``goal``'s own table."""
    per_epoch = np.arange(n_epochs, dtype=np.int64) % 2
    if kind == "vg0":
        return [goal, NO_SELECTION], per_epoch
    own = table_name(family.target(goal))
    names, index, name = [goal], {own: 0}, own
    for e in range(1, n_epochs, 2):
        if kind == "rvg-v" or name == own:
            name = own
            while name == own:
                name = table_name(rng.integers(0, 2, size=family.n_rows, dtype=np.uint8))
        per_epoch[e] = index.setdefault(name, len(names))
        if per_epoch[e] == len(names):
            names.append(name)
    return names, per_epoch


def table_name(bits: np.ndarray) -> str:
    """The goal name of a truth table (``table:`` and its rows, the last row first)."""
    return "table:" + "".join(map(str, np.asarray(bits)[::-1]))


def _walk_without_repeats(rng: np.random.Generator, n: int, n_epochs: int, start: int) -> np.ndarray:
    """A sequence of choices from range(n), uniform among those differing from the previous."""
    out = np.empty(n_epochs, dtype=np.int64)
    current = start
    for e in range(n_epochs):
        if e:
            step = int(rng.integers(1, n))
            current = (current + step) % n
        out[e] = current
    return out


def _random_tables(rng: np.random.Generator, n_rows: int, n_epochs: int):
    names: list[str] = []
    index: dict[str, int] = {}
    per_epoch = np.empty(n_epochs, dtype=np.int64)
    previous = None
    for e in range(n_epochs):
        while True:
            name = table_name(rng.integers(0, 2, size=n_rows, dtype=np.uint8))
            if name != previous:
                break
        previous = name
        per_epoch[e] = index.setdefault(name, len(names))
        if per_epoch[e] == len(names):
            names.append(name)
    return names, per_epoch


class GoalFamily:
    """The goals a task with boolean inputs knows, by name."""

    def __init__(self, n_inputs: int, named: dict[str, Callable[[np.ndarray], np.ndarray]],
                 rmvg: Sequence[str] = ()):
        self.n_inputs = n_inputs
        self.n_rows = 2**n_inputs
        self._named = named
        self._rmvg = list(rmvg)

    def names(self) -> list[str]:
        return list(self._named)

    def rmvg_names(self) -> list[str]:
        return list(self._rmvg)

    def target(self, name: str) -> np.ndarray:
        if name.startswith("table:"):
            digits = name[6:]
            if set(digits) - {"0", "1"} or len(digits) != self.n_rows:
                raise ValueError(f"goal {name!r}: a table goal is table: and {self.n_rows} "
                                 "digits 0 or 1 (row n-1 first)")
            return np.array([int(c) for c in digits[::-1]], dtype=np.uint8)
        if name not in self._named:
            raise ValueError(f"unknown goal {name!r}; allowed: {', '.join(self._named)}")
        return np.asarray(self._named[name](input_bits(self.n_inputs)), dtype=np.uint8)


def logic_goal_family(n_inputs: int) -> GoalFamily:
    """Goals over inputs x, y, z, w (inputs 0..3): the F(x^y, z^w) family, with K&A's
    G1 = AND(x^y, z^w) and G2 = OR(x^y, z^w) under their paper names; XOR (x^y) and PARITY."""
    named: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    rmvg: list[str] = []
    if n_inputs >= 4:
        for fname, fn in BINARY_FUNCTIONS.items():
            name = {"AND": "G1", "OR": "G2"}.get(fname, f"{fname}(x^y,z^w)")
            named[name] = lambda b, fn=fn: fn(b[0] ^ b[1], b[2] ^ b[3])
            rmvg.append(name)
    named["XOR"] = lambda b: b[0] ^ b[1]
    named["PARITY"] = lambda b: np.bitwise_xor.reduce(b, axis=0)
    return GoalFamily(n_inputs, named, rmvg)

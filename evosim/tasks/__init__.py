"""What can be evolved. Each task is pure array code: it knows nothing of engines, files or the CLI."""
from __future__ import annotations

from typing import Any

from evosim.tasks.logic import LogicTask

TASKS: dict[str, str] = {
    "logic-gates": "NAND circuits over 4 inputs (Kashtan & Alon 2005); goals G1, G2, F(x^y,z^w)",
}


def get_task(section: Any) -> LogicTask:
    """The task object for a config's [task] section."""
    if section.name == "logic-gates":
        return LogicTask(n_inputs=section.n_inputs, max_gates=section.max_gates)
    raise ValueError(f"task.name: unknown task {section.name!r}; allowed: {', '.join(TASKS)}")

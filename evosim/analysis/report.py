"""What the report scripts in ``analysis/`` share: loading conditions and writing Markdown.

A *condition* is a folder of run files, named after the folder; the scripts compare conditions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from evosim.analysis.runs import DEFAULT_LAST, RunSummary, load_runs, mean_sd, summarise
from evosim.io import History

__all__ = ["Condition", "load_conditions", "fmt", "fmt_mean_sd", "markdown_table", "write_text"]


@dataclass
class Condition:
    name: str
    folder: Path
    histories: list[History]
    summaries: list[RunSummary]

    @property
    def schedule(self) -> str:
        """The schedule kind most of the condition's runs used (from the files)."""
        kinds = [s.schedule for s in self.summaries]
        return max(set(kinds), key=kinds.count) if kinds else "?"

    def values(self, attribute: str) -> list[float]:
        return [float(getattr(s, attribute)) for s in self.summaries]


def add_report_arguments(parser) -> None:
    """The options every report script shares: output folder, window, bootstrap."""
    parser.add_argument("-o", "--out", type=Path, default=Path("report"), help="output folder")
    parser.add_argument("--last", type=int, default=DEFAULT_LAST,
                        help="rows (generations or epochs) at the end averaged per run")
    parser.add_argument("--bootstrap", type=int, default=10_000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")


def load_conditions(folders: Sequence[str | Path], last: int = DEFAULT_LAST) -> list[Condition]:
    """One condition per folder (a folder named twice, or two folders with one name, get their
    full paths as names)."""
    folders = [Path(f) for f in folders]
    names = [f.resolve().name for f in folders]
    out = []
    for folder, name in zip(folders, names):
        if names.count(name) > 1:
            name = str(folder)
        histories = load_runs(folder)
        rows = [summarise(h, name, last) for h in histories]
        out.append(Condition(name, folder, histories, rows))
    return out


def fmt(value: Any, digits: int = 3) -> str:
    """A table cell: None and NaN as an em dash, floats rounded."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        small = value != 0 and abs(value) < 1e-3  # p-values: keep the digits that matter
        return f"{value:.{digits}g}" if small else f"{value:.{digits}f}"
    return str(value)


def fmt_mean_sd(values: Sequence[float], digits: int = 3) -> str:
    mean, sd = mean_sd(values)
    return "—" if math.isnan(mean) else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_text(out_dir: Path, name: str, text: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    path.write_text(text.rstrip() + "\n", encoding="utf-8")
    return path

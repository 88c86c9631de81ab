"""Digest of every dataset a set of runs writes: the check that a refactor keeps histories
bit-identical.  Run it before and after a change and compare the two JSON files:

    python benchmarks/history_digest.py -o before.json          # on the old commit
    python benchmarks/history_digest.py -o after.json           # on the new one
    python benchmarks/history_digest.py --compare before.json after.json

Every configuration runs on the numba and numpy backends (gradient mode has one), small enough
for a 2-core machine (a few minutes in all)."""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np

from evosim import config as cfg
from evosim import runner

SMALL = {"run.population": 200, "run.generations": 400, "output.flush_every": 100,
         "modularity.qm_samples": 4}
CONFIGS = {
    "ka_mvg": {"schedule.kind": "mvg"},
    "ka_fixed": {"schedule.kind": "fixed"},
    "tournament_evolved": {"schedule.kind": "mvg", "selection.scheme": "tournament",
                           "cost.kind": "length", "cost.layout": "evolved", "cost.weight": 0.01},
    "nsga_p025_mvg": {"schedule.kind": "mvg", "selection.scheme": "nsga2", "cost.kind": "count",
                      "cost.p": 0.25},
    "nsga_unique": {"selection.scheme": "nsga2", "cost.kind": "count", "selection.unique": True},
    "retina_mvg": {"task.name": "retina", "schedule.kind": "mvg"},
    "retina_nsga": {"task.name": "retina", "selection.scheme": "nsga2", "cost.kind": "count"},
    "rmvg": {"schedule.kind": "rmvg"},
    "gradient_retina_mvg": {"task.name": "retina", "run.mode": "gradient",
                            "schedule.kind": "mvg", "run.generations": 40,
                            "schedule.period": 10},
}


def digest(path: Path) -> dict[str, str]:
    """sha256 of every dataset's bytes (with dtype and shape) and of the attributes but the
    creation time."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                value = np.asarray(obj[()])
                blob = value.tobytes() if value.dtype.kind != "O" else repr(value.tolist()).encode()
                out[name] = hashlib.sha256(f"{value.dtype}{value.shape}".encode() + blob).hexdigest()
        f.visititems(visit)
        attrs = {k: str(v) for k, v in f.attrs.items() if k not in ("created", "version")}
        out["attrs"] = hashlib.sha256(json.dumps(attrs, sort_keys=True).encode()).hexdigest()
    return out


def run_all(folder: Path) -> dict[str, dict[str, str]]:
    results = {}
    for name, overrides in CONFIGS.items():
        engines = ("numba",) if overrides.get("run.mode") == "gradient" else ("numba", "numpy")
        for engine in engines:
            config = cfg.from_dict({}).replace(**{**SMALL, **overrides, "run.engine": engine,
                                                  "run.seed": 5})
            path = runner.run(config, folder / f"{name}-{engine}.h5").path
            results[f"{name}-{engine}"] = digest(path)
            print(f"{name}-{engine}", flush=True, file=sys.stderr)
    return results


def compare(a: dict, b: dict) -> list[str]:
    """Where two digests differ: 'run dataset' lines."""
    diffs = []
    for run in sorted(set(a) | set(b)):
        da, db = a.get(run, {}), b.get(run, {})
        diffs += [f"{run} {name}" for name in sorted(set(da) | set(db)) if da.get(name) != db.get(name)]
    return diffs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, help="write the digests here (JSON)")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        diffs = compare(*(json.loads(p.read_text()) for p in args.compare))
        print("\n".join(diffs) or "identical: every dataset of every run")
        return 1 if diffs else 0
    with tempfile.TemporaryDirectory() as tmp:
        results = run_all(Path(tmp))
    text = json.dumps(results, indent=1, sort_keys=True)
    args.out.write_text(text) if args.out else print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

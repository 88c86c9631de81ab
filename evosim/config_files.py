"""The configs that come with evosim (package data, ``evosim/configs/*.toml``), found by name:
``evosim run ka2005-logic-mvg`` reads ``ka2005-logic-mvg.toml`` from the current folder if
there is one, else the shipped config of that name, so a pip-installed evosim has them all."""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped() -> dict[str, Path]:
    """Every shipped config by name (its file name without ``.toml``), sorted."""
    folder = resources.files("evosim") / "configs"
    return {entry.name.removesuffix(".toml"): Path(str(entry))
            for entry in sorted(folder.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".toml")}


def find(name: str) -> Path | None:
    """``NAME.toml`` in the current folder, else the shipped config NAME; None if neither."""
    local = Path(f"{name}.toml")
    return local if local.is_file() else shipped().get(name)


def summary(path: Path, width: int = 96) -> str:
    """A config's one-line description: its first comment line, shortened to ``width``."""
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            text = line.lstrip("#").strip()
            return text if len(text) <= width else text[: width - 3].rstrip() + "..."
    return ""

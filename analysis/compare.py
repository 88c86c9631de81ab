"""``evosim compare`` as a script, for those who run the analysis/ scripts:

    python analysis/compare.py runs/grid/ [more runs or folders] [--by KEY] [--measure M] [-o DIR]

Conditions come from the configs recorded in the run files; see ``evosim compare --help``.
"""
from evosim.cli_analysis import compare

if __name__ == "__main__":
    compare(prog_name="analysis/compare.py")

"""evosim: evolve NAND circuits and small networks under varying goals and record their modularity."""
__version__ = "0.1.0"

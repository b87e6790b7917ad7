"""Benchmarks: figures, never assertions.  ``python -m bench [NAME ...]``."""

"""Benchmarks of the chapter and its helpers; run ``python -m benchmarks.run --help``."""

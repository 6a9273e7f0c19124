"""Benchmarks run by ``xinyue bench <name> --json`` (DESIGN §9)."""

"""Reads of the readers app: one module per area; the contract's entry points are re-exported."""

"""Synthetic Home Credit portfolio: one module per family of tables, plus the default mechanism.

`warehouse.raw.generate` orchestrates them chunk by chunk; each module turns a block of clients
into column arrays in the exact Kaggle layout and records the per-client *drivers* the planted
default mechanism (`truth.py`) reads.
"""

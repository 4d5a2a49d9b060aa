"""Batch: raw landing, nightly compaction, warehouse load and data-quality checks."""

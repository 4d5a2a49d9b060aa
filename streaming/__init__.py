"""Streaming: rolling price volatility on event time (Spark Structured Streaming)."""

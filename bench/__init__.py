"""Benchmarks: speed and memory targets, each reported as a ratio to a baseline run alongside."""

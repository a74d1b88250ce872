"""Benchmarks behind `xindai bench …`: timed runs that print figures; tests never assert time."""

"""Benchmarks: the services against bare references, direct and through the gateway."""

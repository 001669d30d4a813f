"""Arithmetic on query parameters: ``GET /api/math/sum``."""

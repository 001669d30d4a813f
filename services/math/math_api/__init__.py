"""The math service: a stateless example of a service on `core`."""

"""The entity service: CRUD on entities, the reference for new services."""

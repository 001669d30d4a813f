"""The scaffolder: ``./pants run :new-service -- NAME`` writes a working CRUD service."""

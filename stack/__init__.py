"""The whole system on one machine: ``./pants run :stack``."""

"""Entities: model, interfaces, service and controller of the reference resource.

Importing the package loads nothing: the migrations take the models
(`entity.model`) without the HTTP layer (`entity.controller`).
"""

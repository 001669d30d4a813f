"""Notes: model, interfaces, service and controller of the note resource.

Importing the package loads nothing: the migrations take the models
(`note.model`) without the HTTP layer (`note.controller`).
"""

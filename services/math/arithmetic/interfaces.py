"""The sum's arguments (query parameters) and its result."""

from marshmallow import fields, validate

from core import BaseInterfaces, Field
from core.fields import Integer

# Integers a JavaScript client holds exactly; their sum still fits JSON parsers.
SAFE_INTEGER = 2**53 - 1


class SumArgumentsInterfaces(BaseInterfaces):
    a = Field(
        Integer(required=True, validate=validate.Range(-SAFE_INTEGER, SAFE_INTEGER)),
        "First addend",
        example=1,
    )
    b = Field(
        Integer(required=True, validate=validate.Range(-SAFE_INTEGER, SAFE_INTEGER)),
        "Second addend",
        example=2,
    )


class SumInterfaces(BaseInterfaces):
    result = Field(fields.Integer(required=True), "a + b", example=3)

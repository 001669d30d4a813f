"""`BaseInterfaces`: one declaration per field, every schema and model from it.

A service declares its resource once::

    class EntityInterfaces(BaseInterfaces):
        id = Field(fields.Integer(dump_only=True), "Unique identifier", example=1)
        name = Field(fields.String(required=True, validate=validate.Length(1, 255)),
                     "Display name", example="My entity")
        owner_id = Field(fields.String(dump_only=True, allow_none=True), "Owner")
        create_model_keys = ["name"]
        update_model_keys = ["name"]

Attributes are snake_case in Python; on the wire each field is camelCase
(``owner_id`` travels as ``ownerId``). What marshmallow says of a field
(``required``, ``dump_only``, ``allow_none``, ``validate``) is said once and
feeds both the validation and the docs.

What is built when:

- **At class definition** (``__init_subclass__``, import time, no Flask
  needed): the marshmallow schemas. ``schema``/``many_schema`` dump
  resources; ``create_schema``, ``update_schema`` and ``patch_schema`` load
  request bodies and reject unknown and read-only fields; ``query_schema``
  loads query strings.
- **At instantiation** with a flask-restx ``Namespace``
  (``EntityInterfaces(api)``, usually at the top of the controller): the
  documentation models registered on that namespace (``model``,
  ``create_model``, ``update_model``, ``single_response_model``,
  ``many_response_model``), and the `Shape` objects (``create``, ``update``,
  ``patch``, ``query``, ``single``, ``many``) that the decorators of
  `core.decorators` take.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from flask_restx import Namespace
from flask_restx import fields as rx
from flask_restx.model import Model
from marshmallow import RAISE, Schema, fields, missing, validate

from .fields import INT64_MAX, Integer, String, UtcDateTime

__all__ = ["NO_NUL_PATTERN", "BaseInterfaces", "Field", "Shape", "camel_case", "namespace_of"]

NO_NUL_PATTERN = "^[^\\u0000]*$"
"""Documents `core.fields.String`'s refusal of NUL characters."""


def camel_case(name: str) -> str:
    """``owner_id`` -> ``ownerId``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True, slots=True)
class Field:
    """One declared field: its marshmallow field plus what the docs need.

    ``sortable``, ``filterable`` and ``searchable`` say what list queries may do
    with the field (see `core.query`); ``filterable`` is ``True`` for the
    operators that suit the field's type, or the operators themselves.
    """

    field: fields.Field[Any]
    description: str = ""
    example: Any = None
    sortable: bool = False
    filterable: bool | Sequence[str] = False
    searchable: bool = False


@dataclass(frozen=True, slots=True)
class Shape:
    """A marshmallow schema with its documentation model and namespace.

    What the request/response decorators take: they validate with ``schema``,
    serialize with ``dump`` and document with ``model`` on ``namespace``.
    """

    schema: Schema
    model: Model | None
    namespace: Namespace
    interfaces: BaseInterfaces
    dump: Callable[[Any], Any]


def _utc_iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# Field types whose serialized value is the attribute itself (None stays None);
# core's Integer and String differ from marshmallow's only when loading.
_AS_IS = frozenset({fields.Integer, fields.String, fields.Boolean, fields.Raw, Integer, String})


class Dumper:
    """Dumps one object as a marshmallow schema would, faster.

    marshmallow's dump walks its machinery for every field of every object; a
    page of 20 rows made it the largest cost of a list request. Simple fields
    (numbers, strings, booleans, UTC times) are copied or formatted directly;
    any other field is serialized by marshmallow itself. Absent attributes are
    left out, as marshmallow leaves them.
    """

    def __init__(self, schema: Schema) -> None:
        self.plan: list[tuple[str, str, Callable[[Any], Any] | None, fields.Field[Any] | None]] = []
        for name, field in schema.dump_fields.items():
            key, attribute = field.data_key or name, field.attribute or name
            if type(field) is UtcDateTime:
                self.plan.append((attribute, key, _utc_iso, None))
            elif type(field) in _AS_IS and not getattr(field, "as_string", False):
                self.plan.append((attribute, key, None, None))
            else:
                self.plan.append((attribute, key, None, field))

    def __call__(self, obj: Any) -> dict[str, Any]:
        get = obj.get if isinstance(obj, Mapping) else functools.partial(getattr, obj)
        out: dict[str, Any] = {}
        for attribute, key, format_, field in self.plan:
            value = field.serialize(attribute, obj) if field else get(attribute, missing)
            if value is missing:
                continue
            out[key] = format_(value) if format_ is not None and value is not None else value
        return out

    def many(self, objs: Any) -> list[dict[str, Any]]:
        return [self(obj) for obj in objs]


class _Nullable:
    """Marks a documented field ``x-nullable`` (Swagger 2.0 has no null type)."""

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = super().schema()  # type: ignore[misc]
        schema["x-nullable"] = True
        return schema


def nullable(cls: type[rx.Raw]) -> type[rx.Raw]:
    """The flask-restx field type *cls*, documented ``x-nullable``."""
    return type(f"Nullable{cls.__name__}", (_Nullable, cls), {})


# marshmallow field type -> (flask-restx field, the constraints it documents)
_RESTX_TYPES: list[tuple[type[fields.Field[Any]], type[rx.Raw], tuple[str, ...]]] = [
    (fields.Integer, rx.Integer, ("min", "max")),
    (fields.Number, rx.Float, ("min", "max")),
    (fields.Boolean, rx.Boolean, ()),
    (fields.Date, rx.Date, ()),  # before DateTime, its base class
    (fields.DateTime, rx.DateTime, ()),
    (fields.String, rx.String, ("min_length", "max_length", "enum", "pattern")),
    (fields.UUID, rx.String, ("enum", "pattern")),
]


def _constraints(field: fields.Field[Any]) -> dict[str, Any]:
    """What the field's validators say, in flask-restx's keyword names."""
    found: dict[str, Any] = {}
    for v in field.validators:
        if isinstance(v, validate.Length):
            found.update(min_length=v.min, max_length=v.max)
        elif isinstance(v, validate.Range):
            found.update(min=v.min, max=v.max)
        elif isinstance(v, validate.OneOf):
            found["enum"] = list(v.choices)
        elif isinstance(v, validate.Regexp):
            found["pattern"] = v.regex.pattern
    return found


def _restx_field(field: fields.Field[Any], doc: Field | None = None) -> Any:
    """The flask-restx field that documents a marshmallow field."""
    kwargs: dict[str, Any] = {"required": bool(field.required), "readonly": field.dump_only or None}
    if doc is not None:
        kwargs.update(description=doc.description or None, example=doc.example)
    args: tuple[Any, ...] = ()
    cls: type[rx.Raw] = rx.Raw
    if isinstance(field, fields.List):
        cls, args = rx.List, (_restx_field(field.inner),)
    else:
        for ma_type, restx_type, documented in _RESTX_TYPES:
            if isinstance(field, ma_type):
                constraints = _constraints(field)
                cls = restx_type
                kwargs.update((k, constraints.get(k)) for k in documented)
                if isinstance(field, String) and not kwargs.get("pattern"):
                    kwargs["pattern"] = NO_NUL_PATTERN
                if isinstance(field, Integer):  # what it accepts: 64 bits
                    if kwargs["min"] is None:
                        kwargs["min"] = -INT64_MAX
                    if kwargs["max"] is None:
                        kwargs["max"] = INT64_MAX
                break
    if field.allow_none:
        cls = nullable(cls)
    return cls(*args, **{k: v for k, v in kwargs.items() if v is not None})


def query_param(field: fields.Field[Any], description: str = "") -> dict[str, Any]:
    """A Swagger 2.0 ``in: query`` parameter documenting *field*."""
    schema = dict(_restx_field(field).__schema__)
    param: dict[str, Any] = {
        "in": "query",
        "description": description,
        "required": bool(field.required),
    }
    if schema.get("type") == "array":
        param.update(type="array", items=schema["items"], collectionFormat="csv")
    else:
        for key in (
            "type",
            "format",
            "minimum",
            "maximum",
            "minLength",
            "maxLength",
            "enum",
            "pattern",
        ):
            if key in schema:
                param[key] = schema[key]
    return param


class BaseInterfaces:
    """Base of a resource's interfaces; see the module docstring."""

    model_name: ClassVar[str]
    """Name of the documentation models; the class name less ``Interfaces``."""
    fields: ClassVar[dict[str, Field]]
    """The declared fields by Python (snake_case) name, in declaration order."""
    create_model_keys: ClassVar[Sequence[str]] = ()
    update_model_keys: ClassVar[Sequence[str]] = ()
    create_keys: ClassVar[tuple[str, ...]]
    """What clients may send to create: ``create_model_keys``, else every loadable field."""
    update_keys: ClassVar[tuple[str, ...]]
    """What clients may send to update: ``update_model_keys``, else every loadable field."""

    schema: ClassVar[Schema]
    many_schema: ClassVar[Schema]
    dump_one: ClassVar[Dumper]
    """Dump one object as ``schema`` does, faster (see `Dumper`)."""
    create_schema: ClassVar[Schema]
    update_schema: ClassVar[Schema]
    patch_schema: ClassVar[Schema]
    query_schema: ClassVar[Schema]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.model_name = (
            cls.__dict__.get("model_name")
            or re.sub(r"Interfaces$", "", cls.__name__)
            or cls.__name__
        )
        declared: dict[str, Field] = {}
        for base in reversed(cls.__mro__):
            declared.update({k: v for k, v in vars(base).items() if isinstance(v, Field)})
        cls.fields = declared
        for keys in (cls.create_model_keys, cls.update_model_keys):
            unknown = set(keys) - set(declared)
            if unknown:
                raise TypeError(
                    f"{cls.__name__}: model keys name no declared field: {sorted(unknown)}"
                )

        schema_cls = cls._schema_class()
        load_fields = [name for name, f in declared.items() if not f.field.dump_only]
        # Unset key lists mean every loadable field.
        cls.create_keys = tuple(cls.create_model_keys or load_fields)
        cls.update_keys = tuple(cls.update_model_keys or load_fields)
        cls.schema = schema_cls()
        cls.many_schema = schema_cls(many=True)
        cls.dump_one = Dumper(cls.schema)
        cls.create_schema = schema_cls(only=cls.create_keys)
        cls.update_schema = schema_cls(only=cls.update_keys)
        cls.patch_schema = schema_cls(only=cls.update_keys, partial=True)
        cls.query_schema = schema_cls(only=load_fields)

    @classmethod
    def _schema_class(cls) -> type[Schema]:
        attrs: dict[str, Any] = {}
        for name, declared in cls.fields.items():
            # A copy, so the declaration is left as written.
            field = copy.copy(declared.field)
            field.data_key = camel_case(name)
            attrs[name] = field
        attrs["Meta"] = type("Meta", (), {"unknown": RAISE})
        return Schema.from_dict(attrs, name=f"{cls.model_name}Schema")

    def __init__(self, api: Namespace) -> None:
        self.api = api
        name = self.model_name
        every = list(self.fields)
        self.model = api.model(name, self._model_fields(every))
        # Input models are strict (additionalProperties: false): the schemas
        # reject unknown fields, and the docs say so.
        self.create_model = api.model(
            f"{name}Create", self._model_fields(self.create_keys), strict=True
        )
        self.update_model = api.model(
            f"{name}Update", self._model_fields(self.update_keys), strict=True
        )
        self.patch_model = api.model(
            f"{name}Patch", self._model_fields(self.update_keys, required=False), strict=True
        )
        self.single_response_model = api.model(
            f"{name}Response", {"data": rx.Nested(self.model, required=True)}
        )
        self.many_response_model = api.model(
            f"{name}ListResponse",
            {
                "data": rx.List(rx.Nested(self.model), required=True),
                "meta": rx.Nested(_page_meta(api), required=True),
                "links": rx.Nested(_page_links(api), required=True),
            },
        )
        dump_one, dump_many = self.dump_one, self.dump_one.many
        self.create = Shape(self.create_schema, self.create_model, api, self, dump_one)
        self.update = Shape(self.update_schema, self.update_model, api, self, dump_one)
        self.patch = Shape(self.patch_schema, self.patch_model, api, self, dump_one)
        self.query = Shape(self.query_schema, None, api, self, dump_one)
        self.single = Shape(self.schema, self.single_response_model, api, self, dump_one)
        self.many = Shape(self.many_schema, self.many_response_model, api, self, dump_many)

    def _model_fields(self, keys: Sequence[str], *, required: bool = True) -> dict[str, Any]:
        out = {}
        for key in keys:
            f = self.fields[key]
            restx_field = _restx_field(f.field, f)
            if not required:
                restx_field.required = False
            out[camel_case(key)] = restx_field
        return out


def _page_meta(api: Namespace) -> Model:
    return api.model(
        "PageMeta",
        {
            "page": nullable(rx.Integer)(
                required=True,
                min=1,
                example=1,
                description="The page number; null for a page read by cursor.",
            ),
            "pageSize": rx.Integer(required=True, min=1, max=100, example=20),
            "total": rx.Integer(
                required=True,
                min=0,
                example=57,
                description="The matching rows: exact, or an estimate (see totalExact).",
            ),
            "totalExact": rx.Boolean(
                required=True,
                example=True,
                description="Whether total is exact (see the count parameter).",
            ),
        },
    )


def _page_links(api: Namespace) -> Model:
    link = nullable(rx.String)
    return api.model(
        "PageLinks",
        {
            "self": rx.String(required=True),
            "first": rx.String(required=True),
            "prev": link(
                required=True, description="The page before (a cursor); null at the start."
            ),
            "next": link(required=True, description="The page after (a cursor); null at the end."),
            "last": link(
                required=True, description="The last page; null unless the total is exact."
            ),
        },
    )


def namespace_of(target: BaseInterfaces | Shape) -> Namespace:
    """The namespace a decorator documents on. Every decorator of core takes
    the resource's interfaces, or the shape of them it reads or writes, as
    its first argument, and finds the namespace there."""
    return target.namespace if isinstance(target, Shape) else target.api

"""The OpenAPI 3.1 document, generated from the routes themselves.

A JSON view declares its operation with :func:`operation`, placed right under
its route decorator::

    @bp.post("/things/<thing_id>")
    @operation("Change a thing", body=ThingIn, responses={200: ThingOut}, errors=(400, 404))
    def change(thing_id: str) -> ResponseReturnValue: ...

The document walks the app's URL map: every rule whose view declares an
operation becomes a path (``<thing_id>`` becomes ``{thing_id}``, a path
parameter), and every pydantic model named by an operation becomes a schema
component. Nothing is listed by hand, so a new endpoint appears in the
document by declaring its models where it is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from certificate.caching import shareable

bp = Blueprint("openapi", __name__)

F = TypeVar("F", bound=Callable[..., Any])
DOCUMENT_KEY = "ipc.openapi"
OPERATION_ATTRIBUTE = "__openapi_operation__"

BEARER = "bearer"
AGENCY_ASSERTION = "agencyAssertion"

# A response is a model, a raw OpenAPI response object, or a description.
ResponseSpec = type[BaseModel] | Mapping[str, Any] | str

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z_]+$"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}
_SECURITY_SCHEMES = {
    BEARER: {"type": "http", "scheme": "bearer"},
    AGENCY_ASSERTION: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT signed (ES256 or EdDSA) with the agency's registered "
        "key: iss = agency id, aud = the service's base URL, iat, exp at most "
        "5 minutes later, a unique jti.",
    },
}
_RULE_ARGUMENT = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


@dataclass(frozen=True)
class Operation:
    """What the document says about one view.

    ``body`` is the JSON request model, or a sequence of models (one of);
    ``extra_bodies`` adds other media types as raw schemas;
    ``responses`` maps a status to a model, a raw response object or a
    description; ``errors`` lists the statuses answered with the error shape;
    ``parameters`` adds header or query parameters (path parameters come
    from the rule itself).
    """

    summary: str
    body: type[BaseModel] | tuple[type[BaseModel], ...] | None = None
    extra_bodies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    responses: Mapping[int, ResponseSpec] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    security: str | None = None
    parameters: tuple[Mapping[str, Any], ...] = ()

    def models(self) -> list[type[BaseModel]]:
        """Every pydantic model this operation names."""
        found: list[type[BaseModel]] = []
        if isinstance(self.body, tuple):
            found.extend(self.body)
        elif self.body is not None:
            found.append(self.body)
        found.extend(
            spec
            for spec in self.responses.values()
            if isinstance(spec, type) and issubclass(spec, BaseModel)
        )
        return found


def operation(
    summary: str,
    *,
    body: type[BaseModel] | tuple[type[BaseModel], ...] | None = None,
    extra_bodies: Mapping[str, Mapping[str, Any]] | None = None,
    responses: Mapping[int, ResponseSpec] | None = None,
    errors: Iterable[int] = (),
    security: str | None = None,
    parameters: Iterable[Mapping[str, Any]] = (),
) -> Callable[[F], F]:
    """Declare a view's operation for the OpenAPI document (see the module's docstring)."""
    described = Operation(
        summary=summary,
        body=body,
        extra_bodies=dict(extra_bodies or {}),
        responses=dict(responses or {200: "OK"}),
        errors=tuple(errors),
        security=security,
        parameters=tuple(parameters),
    )

    def decorate(view: F) -> F:
        setattr(view, OPERATION_ATTRIBUTE, described)
        return view

    return decorate


def openapi_path(rule: str) -> str:
    """``/a/<b>/<int:c>`` → ``/a/{b}/{c}``."""
    return _RULE_ARGUMENT.sub(lambda m: "{" + m.group(1) + "}", rule)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: Mapping[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _response(spec: ResponseSpec) -> dict[str, Any]:
    if isinstance(spec, str):
        return {"description": spec}
    if isinstance(spec, type):
        return _json(_ref(spec), spec.__name__)
    return dict(spec)


def _operation_object(op: Operation, path_arguments: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {"summary": op.summary}
    if op.security:
        result["security"] = [{op.security: []}]
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in path_arguments
    ]
    parameters.extend(dict(p) for p in op.parameters)
    if parameters:
        result["parameters"] = parameters
    content: dict[str, Any] = {}
    if isinstance(op.body, tuple):
        content["application/json"] = {"schema": {"oneOf": [_ref(m) for m in op.body]}}
    elif op.body is not None:
        content["application/json"] = {"schema": _ref(op.body)}
    content.update({media: {"schema": dict(schema)} for media, schema in op.extra_bodies.items()})
    if content:
        result["requestBody"] = {"required": True, "content": content}
    responses = {str(status): _response(spec) for status, spec in op.responses.items()}
    for status in op.errors:
        responses[str(status)] = _json({"$ref": "#/components/schemas/Error"}, "Error")
    result["responses"] = responses
    return result


def build_document(app: Flask) -> dict[str, Any]:
    """Walk ``app``'s URL map and describe every rule whose view declares an operation."""
    paths: dict[str, dict[str, Any]] = {}
    models: dict[str, type[BaseModel]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op: Operation | None = getattr(
            app.view_functions.get(rule.endpoint), OPERATION_ATTRIBUTE, None
        )
        if op is None:
            continue
        for model in op.models():
            models[model.__name__] = model
        arguments = [m.group(1) for m in _RULE_ARGUMENT.finditer(rule.rule)]
        item = paths.setdefault(openapi_path(rule.rule), {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            item[method.lower()] = _operation_object(op, arguments)
    _, defs = models_json_schema(
        [(model, "validation") for model in models.values()],
        ref_template="#/components/schemas/{model}",
    )
    schemas = dict(defs.get("$defs", {}))
    schemas["Error"] = _ERROR
    return {
        "openapi": "3.1.0",
        "info": {"title": "International Police Certificate API", "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": _SECURITY_SCHEMES},
    }


def openapi_document(app: Flask | None = None) -> dict[str, Any]:
    """The app's document (built on first use; the URL map is fixed once serving)."""
    target: Flask = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if DOCUMENT_KEY not in target.extensions:
        target.extensions[DOCUMENT_KEY] = build_document(target)
    document: dict[str, Any] = target.extensions[DOCUMENT_KEY]
    return document


@bp.get("/api/v1/openapi.json")
@operation("This document", responses={200: "OpenAPI"})
@shareable
def openapi_json() -> ResponseReturnValue:
    """Serve the OpenAPI document."""
    return jsonify(openapi_document())

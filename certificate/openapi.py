"""The OpenAPI 3.1 document of every JSON endpoint, built from the pydantic models."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from certificate.agency.schemas import AgencyAnswerOut, AgencyQueryList
from certificate.applications.schemas import ApplicationIn, ApplicationList, ApplicationOut
from certificate.auth.schemas import AccountIn, AccountOut, TokenIn, TokenOut
from certificate.caching import shareable
from certificate.identity.schemas import IdentityCheckIn, IdentityCheckOut
from certificate.organisations.schemas import ApiKeyIn, ApiKeyOut
from certificate.verify.schemas import (
    JsonWebKeySet,
    NumberVerification,
    TokenVerification,
    VerificationOut,
)
from country_adapters.documents import AnswerIn

bp = Blueprint("openapi", __name__)

_MODELS: list[type[BaseModel]] = [
    AccountIn,
    AccountOut,
    TokenIn,
    TokenOut,
    ApplicationIn,
    ApplicationOut,
    ApplicationList,
    TokenVerification,
    NumberVerification,
    VerificationOut,
    JsonWebKeySet,
    AnswerIn,
    AgencyQueryList,
    AgencyAnswerOut,
    IdentityCheckIn,
    IdentityCheckOut,
    ApiKeyIn,
    ApiKeyOut,
]

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


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _json(_ref("Error"), "Error") for s in statuses}


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_AGENCY: list[dict[str, list[str]]] = [{"agencyAssertion": []}]
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _paths() -> dict[str, Any]:
    app_id = {
        "name": "application_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    return {
        "/healthz": {
            "get": {
                "summary": "Liveness",
                "responses": {"200": _json({"type": "object"}, "The database answers")},
            }
        },
        "/api/v1/accounts": {
            "post": {
                "summary": "Sign up as an applicant",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("AccountIn")}},
                },
                "responses": {
                    "201": _json(_ref("AccountOut"), "Created"),
                    **_errors(400, 409, 415, 429),
                },
            }
        },
        "/api/v1/tokens": {
            "post": {
                "summary": "Get a bearer token",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("TokenIn")}},
                },
                "responses": {
                    "200": _json(_ref("TokenOut"), "Token"),
                    **_errors(400, 401, 415, 429),
                },
            }
        },
        "/api/v1/applications": {
            "post": {
                "summary": "File an application",
                "security": _BEARER,
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 200},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("ApplicationIn")}},
                },
                "responses": {
                    "201": _json(_ref("ApplicationOut"), "Filed"),
                    "200": _json(_ref("ApplicationOut"), "A retry of an earlier filing"),
                    **_errors(400, 401, 403, 415, 422),
                },
            },
            "get": {
                "summary": "The caller's applications",
                "security": _BEARER,
                "responses": {
                    "200": _json(_ref("ApplicationList"), "Applications"),
                    **_errors(401, 403),
                },
            },
        },
        "/api/v1/applications/{application_id}": {
            "get": {
                "summary": "One application",
                "security": _BEARER,
                "parameters": [app_id],
                "responses": {
                    "200": _json(_ref("ApplicationOut"), "Application"),
                    **_errors(401, 403, 404),
                },
            }
        },
        "/api/v1/applications/{application_id}/certificate.pdf": {
            "get": {
                "summary": "The certificate PDF",
                "security": _BEARER,
                "parameters": [app_id],
                "responses": {
                    "200": {
                        "description": "PDF",
                        "content": {
                            "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                        },
                    },
                    **_errors(401, 403, 404),
                },
            }
        },
        "/api/v1/applications/{application_id}/withdraw": {
            "post": {
                "summary": "Withdraw an application in progress",
                "security": _BEARER,
                "parameters": [app_id],
                "responses": {
                    "200": _json(_ref("ApplicationOut"), "Withdrawn"),
                    **_errors(401, 403, 404, 409),
                },
            }
        },
        "/api/v1/verify": {
            "post": {
                "summary": "Verify a certificate by token, typed number, or PDF upload",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [_ref("TokenVerification"), _ref("NumberVerification")]
                            }
                        },
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        },
                    },
                },
                "responses": {
                    "200": _json(_ref("VerificationOut"), "Verdict"),
                    **_errors(400, 413, 415, 429),
                },
            }
        },
        "/.well-known/jwks.json": {
            "get": {
                "summary": "Published signing keys",
                "responses": {"200": _json(_ref("JsonWebKeySet"), "Key set")},
            }
        },
        "/api/v1/openapi.json": {
            "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI"}}}
        },
        "/api/v1/agency/queries": {
            "get": {
                "summary": "The agency's open queries (its own country only)",
                "security": _AGENCY,
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["open"]},
                    }
                ],
                "responses": {
                    "200": _json(_ref("AgencyQueryList"), "Open queries"),
                    **_errors(400, 401),
                },
            }
        },
        "/api/v1/identity-checks": {
            "post": {
                "summary": "An ID checker confirms or refuses an identity in person",
                "security": _BEARER,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("IdentityCheckIn")}},
                },
                "responses": {
                    "200": _json(_ref("IdentityCheckOut"), "Decision recorded"),
                    **_errors(400, 401, 403, 404, 409, 415),
                },
            }
        },
        "/api/v1/organisations/{organisation_id}/api-keys": {
            "post": {
                "summary": "A new API key of the caller's organisation (shown once)",
                "security": _BEARER,
                "parameters": [_path_id("organisation_id")],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": _ref("ApiKeyIn")}},
                },
                "responses": {
                    "201": _json(_ref("ApiKeyOut"), "Created"),
                    **_errors(400, 401, 403, 404, 415),
                },
            }
        },
        "/api/v1/organisations/{organisation_id}/api-keys/{key_id}": {
            "delete": {
                "summary": "Revoke one of the organisation's API keys, at once",
                "security": _BEARER,
                "parameters": [_path_id("organisation_id"), _path_id("key_id")],
                "responses": {"204": {"description": "Revoked"}, **_errors(401, 403, 404)},
            }
        },
        "/api/v1/agency/queries/{query_id}/answer": {
            "post": {
                "summary": "Answer a query; the same answer again has no second effect",
                "security": _AGENCY,
                "parameters": [
                    {
                        "name": "query_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("AnswerIn")}},
                },
                "responses": {
                    "200": _json(_ref("AgencyAnswerOut"), "Answer recorded"),
                    **_errors(400, 401, 404, 409, 415),
                },
            }
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The whole document (built once)."""
    _, defs = models_json_schema(
        [(model, "validation") for model in _MODELS],
        ref_template="#/components/schemas/{model}",
    )
    schemas = dict(defs.get("$defs", {}))
    schemas["Error"] = _ERROR
    return {
        "openapi": "3.1.0",
        "info": {"title": "International Police Certificate API", "version": "1.0.0"},
        "paths": _paths(),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "agencyAssertion": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A JWT signed (ES256 or EdDSA) with the agency's registered "
                    "key: iss = agency id, aud = the service's base URL, iat, exp at most "
                    "5 minutes later, a unique jti.",
                },
            },
        },
    }


@bp.get("/api/v1/openapi.json")
@shareable
def openapi_json() -> ResponseReturnValue:
    """Serve the OpenAPI document."""
    return jsonify(openapi_document())

"""The OpenAPI document is generated from the routes: every /api/v1 rule is in it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask
from flask.testing import FlaskClient
from pydantic import BaseModel

from certificate.openapi import build_document, openapi_path, operation

_ARGUMENT = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def test_every_api_rule_is_documented_with_its_path_parameters(app: Flask) -> None:
    document = build_document(app)
    api_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")]
    assert len(api_rules) >= 10
    for rule in api_rules:
        path = openapi_path(rule.rule)
        assert path in document["paths"], f"{rule.rule} is not in the OpenAPI document"
        item = document["paths"][path]
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert method.lower() in item, f"{method} {rule.rule} is not documented"
            documented = {
                p["name"] for p in item[method.lower()].get("parameters", []) if p["in"] == "path"
            }
            assert documented == set(_ARGUMENT.findall(rule.rule)), rule.rule


def test_every_schema_reference_resolves(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    references = set(re.findall(r'"#/components/schemas/([^"]+)"', str(document).replace("'", '"')))
    assert {"ApplicationIn", "AnswerIn", "Error", "VerificationOut"} <= references
    assert references <= set(schemas), references - set(schemas)


def test_a_new_endpoint_appears_by_declaring_its_models(
    app_config: dict[str, Any], make_app: Callable[[dict[str, Any]], Flask]
) -> None:
    class PingOut(BaseModel):
        pong: bool

    extra = Blueprint("ping_api", __name__)

    @extra.get("/api/v1/ping/<int:times>")
    @operation("Ping", responses={200: PingOut}, errors=(400,))
    def ping(times: int) -> dict[str, bool]:
        return {"pong": times > 0}

    application = make_app(app_config)
    application.register_blueprint(extra)
    document = build_document(application)
    operation_object = document["paths"]["/api/v1/ping/{times}"]["get"]
    assert operation_object["parameters"][0]["name"] == "times"
    assert "PingOut" in document["components"]["schemas"]
    assert operation_object["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }

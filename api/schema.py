"""The OpenAPI schema as the portal answers: no text parameter may hold a NUL character (the
portal refuses it at the door, sangkien.middleware: PostgreSQL cannot store or compare it)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

NO_NUL = "^[^\\u0000]*$"


def text_without_nul(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """drf-spectacular's post-processing hook: every string parameter gets the pattern."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                if schema.get("type") == "string" and "pattern" not in schema:
                    schema["pattern"] = NO_NUL
    return result


class UnitTokenScheme(OpenApiAuthenticationExtension):
    """How the schema names a unit's token: `Authorization: Token <token>`."""

    target_class = "api.authentication.UnitTokenAuthentication"
    name = "unitToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "“Token <token>”: a unit's token, issued in the admin by the board over the unit.",
        }

"""Check the API's answers against its OpenAPI document (its schemas are JSON Schema 2020-12)."""

from jsonschema import Draft202012Validator

from minestrone.monitor.api.openapi import DOCUMENT


def schema_of(path: str, method: str, status: int) -> dict:
    """The documented schema of an answer."""
    operation = DOCUMENT["paths"][path][method.lower()]
    return operation["responses"][str(status)]["content"]["application/json"]["schema"]


def check(response, path: str, method: str = "GET") -> dict:
    """Assert the response's JSON fits what the document says for its status; return it."""
    body = response.json()
    schema = {**DOCUMENT, **schema_of(path, method, response.status_code)}
    # The document's other keys (openapi, paths…) are unknown keywords here: ignored; they
    # make "#/components/schemas/…" resolve within it.
    Draft202012Validator(schema).validate(body)
    return body

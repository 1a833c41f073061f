"""The OpenAPI document and the Chalice app agree: every /api/v1 route is documented, and nothing more."""

from __future__ import annotations

from tests.api.conftest import Api, body


def app_routes(app) -> set[tuple[str, str]]:
    return {(method.lower(), path) for path, entries in app.routes.items() if path.startswith("/api/v1")
            for method in entries}


def test_every_api_route_is_documented_and_every_documented_route_exists(app, api: Api):
    # when the document is fetched (without credentials: it is public)
    response = Api(api.client, "", "demo").get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = body(response)
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    # then it lists exactly the app's routes
    assert documented == app_routes(app)
    assert doc["openapi"].startswith("3.1")


def test_each_operation_names_its_path_parameters_permission_and_error_shape(api: Api):
    doc = body(api.get("/api/v1/openapi.json"))
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            names = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert names == {part[1:-1] for part in path.split("/") if part.startswith("{")}, (method, path)
            assert op["x-permission"] and op["responses"]["4XX"], (method, path)
            if method in ("post", "put", "patch") and "/publish" not in path and "/api-keys" not in path \
                    and path.startswith("/api/v1/tenants"):
                assert "requestBody" in op, (method, path)


def test_the_documented_schemas_are_the_ones_the_api_enforces(api: Api):
    doc = body(api.get("/api/v1/openapi.json"))
    schema = doc["paths"]["/api/v1/tenants/{tenant}/extensions/{item_id}"]["patch"]["requestBody"]["content"][
        "application/merge-patch+json"]["schema"]
    assert schema["additionalProperties"] is False and "devices" in schema["properties"]
    assert api.patch("/extensions/100", {"undocumented": 1}).status_code == 422


def test_the_document_is_valid_openapi_3_1(api: Api):
    from openapi_spec_validator import validate

    validate(body(api.get("/api/v1/openapi.json")))

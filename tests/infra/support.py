"""Shared helpers for the infrastructure tests: the template as CloudFormation sees it, and the Chalice
app's own SAM template merged with it exactly as ``chalice package --merge-template`` does."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
DOCKERFILE = ROOT / "infra" / "Dockerfile.media"
CHALICE_CONFIG = ROOT / "functions" / ".chalice" / "config.json"


def load_template() -> dict[str, Any]:
    """infra/template.yaml through Chalice's own YAML loader (short-form intrinsics -> long form)."""
    from chalice.package import YAMLTemplateSerializer

    return YAMLTemplateSerializer().load_template(TEMPLATE.read_text(), str(TEMPLATE))


def sub_template(names: list[str]) -> dict[str, Any]:
    """A stand-alone template of just ``names`` and the parameters they reference."""
    full = load_template()
    resources = {n: full["Resources"][n] for n in names}
    used = json.dumps(resources)
    params = {p: spec for p, spec in full["Parameters"].items() if f'"{p}"' in used or "${" + p + "}" in used}
    return {"AWSTemplateFormatVersion": "2010-09-09", "Parameters": params, "Resources": resources}


class _Principals:
    def service_principal(self, service: str) -> str:
        return f"{service}.amazonaws.com"


@cache
def chalice_template() -> str:
    """The prod stage's SAM template as Chalice generates it (JSON), without building the zip.

    The build stage is Chalice's own minus pip packaging and policy generation (both replaced by
    infra/template.yaml in the merge): defaults, the deployment package location, the swagger.
    """
    import sys

    for p in (str(ROOT), str(ROOT / "functions")):
        if p not in sys.path:
            sys.path.insert(0, p)
    from chalice.config import Config
    from chalice.deploy import models
    from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder
    from chalice.deploy.deployer import BaseDeployStep, BuildStage, InjectDefaults, SwaggerBuilder
    from chalice.deploy.swagger import CFNSwaggerGenerator
    from chalice.package import SAMTemplateGenerator

    from chalicelib.server import load_app_module

    class ZipLocation(BaseDeployStep):  # type: ignore[misc]
        def handle_deploymentpackage(self, config: Any, resource: models.DeploymentPackage) -> None:
            resource.filename = "./deployment.zip"

    app = load_app_module().app
    config = Config(chalice_stage="prod", config_from_disk=json.loads(CHALICE_CONFIG.read_text()),
                    user_provided_params={"project_dir": str(ROOT / "functions"), "chalice_app": app})
    application = ApplicationGraphBuilder().build(config, "prod")
    deps = DependencyBuilder()
    BuildStage([InjectDefaults(), ZipLocation(), SwaggerBuilder(CFNSwaggerGenerator())]).execute(
        config, deps.build_dependencies(application))
    template = SAMTemplateGenerator(config, _Principals()).generate(deps.build_dependencies(application))
    return json.dumps(template, default=str)


def merged_template() -> dict[str, Any]:
    """What ``chalice package --merge-template infra/template.yaml`` writes (sam.yaml), as a dict."""
    from chalice.package import TemplateDeepMerger

    return TemplateDeepMerger().merge(load_template(), json.loads(chalice_template()))

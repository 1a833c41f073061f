"""Run the Chalice app on the embedded default (``chalice local``'s server, in-process)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from chalice import Chalice
from chalice.config import Config
from chalice.local import CustomLocalChalice, LocalDevServer, create_local_server

FUNCTIONS = Path(__file__).resolve().parents[1]


def load_app_module() -> ModuleType:
    """Import functions/app.py (the Chalice entry point) as module ``app``."""
    if "app" in sys.modules and getattr(sys.modules["app"], "__file__", "") == str(FUNCTIONS / "app.py"):
        return sys.modules["app"]
    spec = importlib.util.spec_from_file_location("app", FUNCTIONS / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    return module


def make_server(host: str, port: int) -> LocalDevServer:
    app: Any = load_app_module().app
    # create_local_server sets CustomLocalChalice.__bases__ from app.__class__; after a first server the
    # app already is a CustomLocalChalice, so a second server in the same process would be a base cycle.
    if isinstance(app, CustomLocalChalice):
        app.__class__ = Chalice
    config = Config.create(chalice_stage="dev", app_name="vpbx", project_dir=str(FUNCTIONS))
    return create_local_server(app, config, host, port)

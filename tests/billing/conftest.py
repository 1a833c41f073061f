from tests.projections.conftest import api  # noqa: F401

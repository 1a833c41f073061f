from tests.projections.conftest import api, fixed_tenant  # noqa: F401

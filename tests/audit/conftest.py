from tests.projections.conftest import fixed_tenant  # noqa: F401

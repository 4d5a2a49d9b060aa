"""The composition root's tests share the batch tests' deployed stack."""

from tests.batch.conftest import batch_stack  # noqa: F401  (a fixture)

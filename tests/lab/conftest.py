from tests.training.conftest import engineer, tiny_model, training_settings  # noqa: F401 - shared fixtures

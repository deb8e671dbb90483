"""Shared pytest configuration: database and S3 fixtures live in tests/support."""

pytest_plugins = ["tests.support.db", "tests.support.s3", "tests.support.tsa", "tests.support.clamd"]

"""Stateful conformance suites, one per component."""

"""The contract suites: one set of behaviour tests run against every adapter of a port."""

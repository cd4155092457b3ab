"""The composition root: the only place that names concrete adapters.

container (the providers, and the process's shared container), settings (the environment,
checked), publishers (one per @connections endpoint), dispatch (where shards go), tokens (the
authorizer's verifier). Adapters are imported when first built, so a cold start loads only what
its routes use.
"""

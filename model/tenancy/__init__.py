"""Tenancy: identifier validation (`validation`), cache keys (`keys`), the tenant context and
errors (`context`), the HTTP edge (`http`), the moka-style cache and in-memory backend (`cache`),
and the resolver in its three variants v1, v2 and hardened (`resolver`). Protocols in `protocols`;
the Redis backend and the SQL tenant store are adapters (`rustok_sim.adapters`)."""

"""Prefect tasks: thin wrappers around the domain functions, for retries and visibility.

Tasks receive paths, ids and small values, open their own database session, and say
``cache_policy=NO_CACHE`` when they have side effects.
"""

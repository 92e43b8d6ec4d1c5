"""Validation of one delivery against its contract (docs/deliveries.md), as plain functions over dataframes.

``prepare`` normalises the raw rows, ``rules`` holds the per-field rules as a pandera schema built
from the contract, ``people`` the identity-based rules (duplicates, CRM, suppression), and
``engine`` combines them into one verdict per row. Nothing here touches a database: what the
database knows arrives as a ``KnownPeople`` value.
"""

"""Harmonisation: municipal codes, herindelingen crosswalk, prices, rates and audit log -> Panel.

Modules (import them directly; nothing is imported here so that each stays light):

* ``codes``       normalise_municipality_code
* ``register``    load_municipalities, codes_valid_in, check_codes_exist (bundled register 2015-2024)
* ``transitions`` load_transitions and the composition of yearly herindelingen
* ``crosswalk``   to_reference_year (map a source table to one reference year's boundaries)
* ``combine``     sum / weighted_mean / design combination rules
* ``prices``      deflate, rebase
* ``rates``       ratio, per_inhabitant, per_1000_inhabitants, per_1000_youth, per_1000_adults
* ``audit``       AuditLog
* ``panel``       Panel, size_class
* ``pipeline``    harmonise (sources.toml -> Panel)
"""

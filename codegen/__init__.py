"""Build-time tooling: load and check the catalogue in spec/, generate the typed client.

Never imported by the runtime package (jinja2 and pyyaml live only here).
"""

GENERATOR_VERSION = "1"

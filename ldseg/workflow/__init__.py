"""The steps commands are made of, kept out of the CLI so that each command reads as its steps:

- ``planning``: load the config, read LaunchDarkly and plan, check a saved plan, apply;
- ``smoke_tests``: which destinations to smoke-test, with which Segment access, and running them;
- ``adoption``: read an account and write it as ldseg.yaml (``ldseg export``).
"""

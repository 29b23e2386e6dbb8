"""A benchmark proving that ldseg's plan cost grows with the config, not with the organisation.

``python -m tests.bench`` seeds the sandbox, in its own process, with a large organisation (default
5 projects x 4 environments x 2,000 flags = 40,000 flag-environments, tags drawn deterministically,
2 destinations per environment), adds a fixed latency to every request (default 30 ms, standing in
for the network), runs real ``ldseg`` processes against it and reports per scenario: wall time,
LaunchDarkly requests by route (the sandbox's request log), peak RSS (the OS's, per process), and the
request count of the per-object strategy the Terraform provider uses (2 GETs per managed
flag-environment + 1 per destination) as a ratio. It prints a Markdown table and writes
``bench-results.json``. ``--quick`` runs a smoke-sized variant (``test_bench_smoke.py`` runs it in
the test suite and checks the request-count invariants, which do not depend on the machine).

Modules: ``org`` (seed, configs, request arithmetic), ``sandbox_runner`` (the sandbox process),
``procs`` (measured processes), ``plan_only`` (scenario (f)'s child), ``harness`` (scenarios and
targets), ``report`` (Markdown).
"""

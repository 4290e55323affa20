"""``fleetctl plan``: the offline plan of a stack and its policy gate.

The subcommand itself is :mod:`fleetctl.plan.command` (``register``); the rest are its parts,
also used as a library by the tests, benchmarks and policy tests:

* :mod:`~fleetctl.plan.mockrun` runs the program under the mock runtime and records every
  registration, with :mod:`~fleetctl.plan.mocks` as the AWS provider's stand-ins;
* :mod:`~fleetctl.plan.analyzer_client` runs the policy pack over a recording through the
  analyzer gRPC protocol;
* :mod:`~fleetctl.plan.critical_path`, :mod:`~fleetctl.plan.render`,
  :mod:`~fleetctl.plan.placeholders` and :mod:`~fleetctl.plan.graph` turn a recording into
  the plan a reader sees; :mod:`~fleetctl.plan.heap` keeps the collector off the run's heap.

Finding the project and reading its stack files (:mod:`fleetctl.project`,
:mod:`fleetctl.config_paths`) is shared with the fleet checks, compliance and reports, so it
stays at the top of the package.

Kept free of imports: importing one part (say ``fleetctl.plan.analyzer_client``) does not
load the command and the Pulumi SDK with it.
"""

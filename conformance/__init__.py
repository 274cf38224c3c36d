"""The conformance gate: invariants over traces and Hypothesis stateful suites.

Will hold: invariant checkers shared with scenarios, one RuleBasedStateMachine per component that
drives a target beside the reference model, `module:factory` target plug-ins (peers, mutants),
a checker for traces exported by the real services, and transition coverage.
"""

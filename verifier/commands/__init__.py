"""The ``tally-verify`` commands, one module each; :mod:`verifier.cli` assembles them.

A command reads its options, calls the library (:mod:`verifier.session`,
:mod:`verifier.audit_online`, :mod:`verifier.statement`, ...) and prints the outcome;
:mod:`verifier.commands.app` holds what they share: output, and the exit codes.
"""

"""The simulated market: loopback servers that speak each source's real protocol.

It is part of the product: ``lockstep --demo`` runs the real feed code against it,
and the tests and benchmarks script faults through it. Every server binds
127.0.0.1 only.
"""

"""Online scoring's pure logic: the request contract, candidate checks, the circuit breaker.

No web framework here: ``steward/app/serving`` wires these to HTTP.
"""

"""ambi: a Python web framework in which def and async def are equals."""

"""Server adapters (ASGI, RSGI) and the runner behind `App.listen()` and `ambi run`."""

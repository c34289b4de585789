"""An app with the in-process task queue (what `ambi worker` refuses)."""

from ambi import App

app = App()
app.enable_background_tasks()

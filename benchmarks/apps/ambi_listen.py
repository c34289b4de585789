"""The ambi contender served by `app.listen()`; `nofreeze` disables `gc.freeze()` first.

python -m benchmarks.apps.ambi_listen PORT [freeze|nofreeze]
"""

import gc
import sys

if sys.argv[2:] == ["nofreeze"]:
    gc.freeze = lambda: None  # before the app starts: its startup then freezes nothing

from benchmarks.apps.ambi_app import app

if __name__ == "__main__":
    app.listen(port=int(sys.argv[1]), log_level="warning")

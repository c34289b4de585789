"""The guide's examples (`docs/examples/`) are imported as `docs.examples.<page>.<module>`.

`docs/` is a namespace package on the repository root, which pytest puts first on
`sys.path` (and worker processes inherit it, so `run="process"` handlers import there too).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

"""`python -m ambi`: the `ambi` command."""

import sys

from .cli import main

sys.exit(main())

"""``python -m d2lutil.data``: get, check and locate the Fashion-MNIST data."""

import sys

from d2lutil.data import main

sys.exit(main())

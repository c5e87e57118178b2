import sys

from contactpoint.cli import main

sys.exit(main())

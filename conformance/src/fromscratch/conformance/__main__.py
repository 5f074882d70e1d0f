import sys

from fromscratch.conformance.cli import main

sys.exit(main())

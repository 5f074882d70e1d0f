"""``python -m fromscratch.conformance COMMAND``: the same as the ``fromscratch`` command."""

import sys

from fromscratch.conformance.cli import main

sys.exit(main(prog="python -m fromscratch.conformance"))

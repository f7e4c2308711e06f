"""``python -m goldticket.cli``."""

from goldticket.cli import main

main()

"""`python -m hal` runs the command line."""

from hal.cli.main import main

main()

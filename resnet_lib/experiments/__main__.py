"""Starts the experiments' command line: `python -m resnet_lib.experiments ...` runs `cli.main`."""

from resnet_lib.experiments.cli import main

if __name__ == "__main__":
    main()

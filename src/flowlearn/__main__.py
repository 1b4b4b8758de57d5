"""``python -m flowlearn``: the command line, also under launchers such as torchrun."""

from flowlearn.cli import main

if __name__ == "__main__":
    main()

"""``python -m steward``: the same as the ``steward`` command."""

from steward.app.cli import main

if __name__ == "__main__":
    main()

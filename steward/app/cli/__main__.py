"""``python -m steward.app.cli``: the same as the ``steward`` command."""

from steward.app.cli.root import main

if __name__ == "__main__":
    main()

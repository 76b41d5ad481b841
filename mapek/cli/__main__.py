"""``python -m mapek.cli``: the ``mapek`` command."""

from mapek.cli import main

if __name__ == "__main__":
    main()

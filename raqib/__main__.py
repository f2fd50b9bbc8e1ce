"""`python -m raqib`: how every Raqib process starts its children.

`-m raqib` resolves the installed package, so a `cli.py`, `config.py` or
`console.py` in the working directory never changes what runs.
"""

from raqib.cli import run

if __name__ == "__main__":
    run()

"""Training commands that rebuild the shipped weights from ../shared; never imported by `qa`.

Run them as `python -m qa.train COMMAND ...`; `python -m qa.train --help` lists them.
"""

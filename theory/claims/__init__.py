"""One module per paper claim; each defines a :class:`theory.ledger.Claim` and registers its parts."""

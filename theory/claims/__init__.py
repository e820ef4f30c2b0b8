"""One module per paper claim; each registers its verification with :func:`theory.ledger.claim`."""

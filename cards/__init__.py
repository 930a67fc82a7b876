"""Members, their platform identities, QR tokens and card images."""

"""Training and evaluation commands, apart from `actions/` so no serving process imports them."""

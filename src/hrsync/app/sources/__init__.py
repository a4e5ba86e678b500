"""HR sources as the shell presents them."""

"""Real local servers for tests and the demo: a throwaway Samba AD DC on loopback."""

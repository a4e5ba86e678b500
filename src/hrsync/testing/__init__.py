"""Real local servers for tests and the demo: a throwaway Samba AD DC, SCIM servers
(scim2-server, SCIMMY) on loopback, and an HTTP fault proxy to put in front of any of them."""

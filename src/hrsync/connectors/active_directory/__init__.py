"""Active Directory over LDAP (python-ldap): the first target."""

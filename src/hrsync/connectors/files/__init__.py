"""Where files are delivered and picked up: a local folder or an SFTP directory (issue 14)."""

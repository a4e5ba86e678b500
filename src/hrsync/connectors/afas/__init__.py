"""AFAS Profit as an HR source: GetConnectors over REST, read into persons."""

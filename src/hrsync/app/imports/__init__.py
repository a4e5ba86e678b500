"""Imports: a source read into the person store, with the change log and the shrink guard."""

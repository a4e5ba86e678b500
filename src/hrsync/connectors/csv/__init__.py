"""CSV files as a target: Flexwhere and Winningtemp user files (issue 14)."""

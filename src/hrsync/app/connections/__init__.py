"""What is done with a connection: its lifecycle, its run times, a trial of its mapping."""

"""Use cases over the data file: what the window and the command line ask of LeadDesk."""

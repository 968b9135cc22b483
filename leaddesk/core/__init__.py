"""The core: rules of LeadDesk in plain Python, with no Qt and no database."""

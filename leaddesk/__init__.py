"""LeadDesk: send lead lists to advertisers' offers at a natural pace."""

__version__ = "0.1.0"

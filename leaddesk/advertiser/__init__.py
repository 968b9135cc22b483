"""Talking to advertisers: the HTTP client and a local sandbox advertiser."""

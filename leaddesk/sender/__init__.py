"""The sender: paces deliveries of every Active distribution, in the app or headless."""

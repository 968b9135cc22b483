"""The Qt window: pages, dialogs and the sender's thread."""

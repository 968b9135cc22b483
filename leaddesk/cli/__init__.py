"""The command line: open the app, or do the main job headless."""

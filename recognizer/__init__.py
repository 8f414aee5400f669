"""Digit recognition core: preprocessing, models, augmentation and online learning, free of any web framework."""

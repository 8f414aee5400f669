"""Learning from a correction: variants of the drawing, the online step, and the guard against forgetting."""

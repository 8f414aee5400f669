"""The two networks in plain numpy and their weight files: what reading, learning and training all run."""

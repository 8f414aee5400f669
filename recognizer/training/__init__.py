"""What only the training command loads: the training sets, their synthetic drawings, Keras and matplotlib."""

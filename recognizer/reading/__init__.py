"""Reading a drawing: decode the image, bring it to MNIST's form, find a number's digits, run the models, answer."""

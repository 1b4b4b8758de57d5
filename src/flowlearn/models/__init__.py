"""``torch.nn.Module``s only, one file per family."""

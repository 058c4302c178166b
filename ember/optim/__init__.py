"""ember.optim (torch.optim)."""

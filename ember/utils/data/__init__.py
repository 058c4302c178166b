"""ember.utils.data (torch.utils.data)."""

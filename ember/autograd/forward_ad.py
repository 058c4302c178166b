"""torch.autograd.forward_ad: forward-mode AD is not built in ember.

Every name torch has here (dual_level, make_dual, unpack_dual, ...) resolves to a stub that
raises NotImplementedError naming it (ember/_stubs.py).
"""

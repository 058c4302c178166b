"""torch.cuda.green_contexts: CUDA green contexts (SM partitions); not built into a CPU torch."""
__all__ = ['GreenContext']

SUPPORTED = False


def _not_built():
    return RuntimeError('PyTorch was not built with Green Context support!')


class GreenContext:
    """A CUDA green context: the class exists; creating one is refused."""

    @staticmethod
    def create(*, num_sms=None, workqueue_scope=None, workqueue_concurrency_limit=None,
               device_id=None):
        raise _not_built()

    @staticmethod
    def max_workqueue_concurrency(device_id=None):
        raise _not_built()

    def set_context(self):
        return super().set_context()

    def pop_context(self):
        return super().pop_context()

    def Stream(self):
        return super().Stream()

"""DDP's default communication hooks: each takes (process_group, bucket) and returns a Future
of the bucket's averaged gradients, as torch's do."""
from ... import distributed_c10d as dist
from ...._dtype import bfloat16, float16

__all__ = ['allreduce_hook', 'fp16_compress_hook', 'bf16_compress_hook']


def _group(process_group):
    return process_group if process_group is not None else dist.GroupMember.WORLD


def allreduce_hook(process_group, bucket):
    """The bucket averaged over the group: what DDP does without a hook."""
    group = _group(process_group)
    buffer = bucket.buffer()
    buffer.div_(group.size())
    work = dist.all_reduce(buffer, group=group, async_op=True)
    return work.get_future().then(lambda fut: fut.value()[0])


def _compressed(dtype):
    def hook(process_group, bucket):
        group = _group(process_group)
        buffer = bucket.buffer()
        small = buffer.to(dtype).div_(group.size())

        def decompress(fut):
            buffer.copy_(fut.value()[0])
            return buffer
        work = dist.all_reduce(small, group=group, async_op=True)
        return work.get_future().then(decompress)
    return hook


fp16_compress_hook = _compressed(float16)
fp16_compress_hook.__name__ = fp16_compress_hook.__qualname__ = 'fp16_compress_hook'
fp16_compress_hook.__doc__ = 'The bucket sent as float16 (halving the bytes), averaged.'
bf16_compress_hook = _compressed(bfloat16)
bf16_compress_hook.__name__ = bf16_compress_hook.__qualname__ = 'bf16_compress_hook'
bf16_compress_hook.__doc__ = 'The bucket sent as bfloat16 (halving the bytes), averaged.'

"""torch.utils.cpp_backtrace: the current thread's native stack. ember has no C++ frames; it
reports the Python frames in torch's `frame #i:` format."""
import traceback

__all__ = ['get_cpp_backtrace']


def get_cpp_backtrace(frames_to_skip=0, maximum_number_of_frames=64):
    """The stack of the current thread as a string, innermost frame first."""
    frames = traceback.extract_stack()[:-1][::-1][frames_to_skip:]
    return ''.join(f'frame #{i}: {f.name} ({f.filename}:{f.lineno})\n'
                   for i, f in enumerate(frames[:maximum_number_of_frames]))

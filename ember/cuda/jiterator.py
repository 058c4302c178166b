"""torch.cuda.jiterator: elementwise CUDA kernels compiled from C++ source at run time. The
functions are made as torch makes them; calling one needs CUDA."""
import re

__all__ = []


# template <...> return_type name(params) { body }
_KERNEL = re.compile(r'\s*template\s*(<.+>)\s*(\w+)\s+(\w+)\s*(\(.+\))\s*(\{.+\})\s*', re.DOTALL)


class _CodeParser:
    """The parts of one templated C++ kernel definition."""

    def __init__(self, code_string):
        found = _KERNEL.match(code_string)
        if found is None:
            raise Exception(  # noqa: TRY002 - the type torch raises
                f"Couldn't parse code, please check correctness:\n {code_string}")
        (self.template_params, self.return_type, self.function_name, self.function_params,
         self.function_body) = found.groups()


class _JittedFunction:
    def __init__(self, code_string, return_by_ref, num_outputs, **kwargs):
        if not (return_by_ref or num_outputs == 1):
            raise AssertionError('Return by value only works for single output.')
        self.code_string = code_string
        self.return_by_ref = return_by_ref
        self.num_outputs = num_outputs
        self.kernel_name = _CodeParser(code_string).function_name
        self.kwargs_dict = kwargs
        self.is_cuda_available = False

    def __call__(self, *tensors, **kwargs):
        raise AssertionError('Jiterator is only supported on CUDA and ROCm GPUs, none are '
                             'available.')


def _create_jit_fn(code_string, **kwargs):
    return _JittedFunction(code_string, return_by_ref=False, num_outputs=1, **kwargs)


def _create_multi_output_jit_fn(code_string, num_outputs, **kwargs):
    return _JittedFunction(code_string, return_by_ref=True, num_outputs=num_outputs, **kwargs)

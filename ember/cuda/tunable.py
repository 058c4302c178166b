"""torch.cuda.tunable: TunableOp's GEMM tuning; its bindings are absent from a CPU build."""
import glob

from ._utils import no_binding, refusing

__all__ = ['enable', 'is_enabled', 'tuning_enable', 'tuning_is_enabled', 'record_untuned_enable',
           'record_untuned_is_enabled', 'set_max_tuning_duration', 'get_max_tuning_duration',
           'set_max_tuning_iterations', 'get_max_tuning_iterations', 'set_filename',
           'get_filename', 'get_results', 'get_validators', 'read_file', 'tune_gemm_in_file',
           'mgpu_tune_gemm_in_file', 'set_rotating_buffer_size', 'get_rotating_buffer_size',
           'set_numerical_check_tolerances']


# each calls straight into its torch._C binding, absent from a CPU build
enable = refusing('enable', '_cuda_tunableop_')
is_enabled = refusing('is_enabled', '_cuda_tunableop_')
tuning_enable = refusing('tuning_enable', '_cuda_tunableop_')
tuning_is_enabled = refusing('tuning_is_enabled', '_cuda_tunableop_')
record_untuned_enable = refusing('record_untuned_enable', '_cuda_')
record_untuned_is_enabled = refusing('record_untuned_is_enabled', '_cuda_')
set_max_tuning_duration = refusing('set_max_tuning_duration', '_cuda_tunableop_')
get_max_tuning_duration = refusing('get_max_tuning_duration', '_cuda_tunableop_')
set_max_tuning_iterations = refusing('set_max_tuning_iterations', '_cuda_tunableop_')
get_max_tuning_iterations = refusing('get_max_tuning_iterations', '_cuda_tunableop_')
set_filename = refusing('set_filename', '_cuda_tunableop_')
get_filename = refusing('get_filename', '_cuda_tunableop_')
get_results = refusing('get_results', '_cuda_tunableop_')
get_validators = refusing('get_validators', '_cuda_tunableop_')
set_rotating_buffer_size = refusing('set_rotating_buffer_size', '_cuda_tunableop_')
get_rotating_buffer_size = refusing('get_rotating_buffer_size', '_cuda_tunableop_')
set_numerical_check_tolerances = refusing('set_numerical_check_tolerances', '_cuda_tunableop_')


def read_file(filename=None):
    if filename is None:
        filename = get_filename()
    raise no_binding('_cuda_tunableop_read_file')


def tune_gemm_in_file(filename):
    is_enabled()


def mgpu_tune_gemm_in_file(filename_pattern, num_gpus):
    # torch reads the untuned GEMMs of every matching file before counting the GPUs: none here
    for name in glob.glob(filename_pattern):
        with open(name) as f:
            f.read()
    if not 1 <= num_gpus <= 0:
        raise AssertionError(f'num_gpus must be between 1 and 0, got {num_gpus}')

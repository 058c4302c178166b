"""How a list of float modules becomes one fused module
(torch.ao.quantization.fuser_method_mappings)."""
from ... import nn
from ...nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval
from ..nn import intrinsic as nni
from .utils import get_combined_dict

__all__ = ['fuse_conv_bn', 'fuse_conv_bn_relu', 'fuse_linear_bn', 'fuse_convtranspose_bn',
           'get_fuser_method']


def _check_bn_for_qat(bn, channels, what, bn_name):
    if bn.num_features != channels:
        raise AssertionError(f"{what} must match num_features of {bn_name}")
    if not bn.affine:
        raise AssertionError(f"Only support fusing {bn_name} with affine set to True")
    if not bn.track_running_stats:
        raise AssertionError(
            f"Only support fusing {bn_name} with tracking_running_stats set to True")


def _check_same_mode(kind, *modules):
    """The modules fused together must all be training or all be in eval mode."""
    if len({m.training for m in modules}) > 1:
        raise AssertionError(f"{kind} and BN both must be in the same mode (train or eval).")


def _fused_class(fused, mode, conv, *rest):
    """The fused module class for `conv`'s type in `fused` (conv type -> class)."""
    if type(conv) not in fused:
        raise NotImplementedError(f"Cannot fuse {mode} modules: {(conv, *rest)}")
    return fused[type(conv)]


def fuse_conv_bn(is_qat, conv, bn):
    """Conv + BN: a ConvBn module for QAT, else the conv with BN folded into its weights."""
    _check_same_mode('Conv', conv, bn)
    if not is_qat:
        return fuse_conv_bn_eval(conv, bn)
    _check_bn_for_qat(bn, conv.out_channels, 'Output channel of Conv2d', 'BatchNorm2d')
    fused = {nn.Conv1d: nni.ConvBn1d, nn.Conv2d: nni.ConvBn2d, nn.Conv3d: nni.ConvBn3d}
    return _fused_class(fused, 'train', conv, bn)(conv, bn)


def fuse_conv_bn_relu(is_qat, conv, bn, relu):
    """Conv + BN + ReLU: ConvBnReLU for QAT, else ConvReLU around the folded conv."""
    _check_same_mode('Conv', conv, bn, relu)
    if is_qat:
        _check_bn_for_qat(bn, conv.out_channels, 'Output channel of Conv2d', 'BatchNorm2d')
        fused = {nn.Conv1d: nni.ConvBnReLU1d, nn.Conv2d: nni.ConvBnReLU2d,
                 nn.Conv3d: nni.ConvBnReLU3d}
        return _fused_class(fused, 'train', conv, bn, relu)(conv, bn, relu)
    fused = {nn.Conv1d: nni.ConvReLU1d, nn.Conv2d: nni.ConvReLU2d, nn.Conv3d: nni.ConvReLU3d}
    return _fused_class(fused, 'eval', conv, bn, relu)(fuse_conv_bn_eval(conv, bn), relu)


def fuse_linear_bn(is_qat, linear, bn):
    """Linear + BatchNorm1d: LinearBn1d for QAT, else the folded Linear."""
    _check_same_mode('Linear', linear, bn)
    if not is_qat:
        return fuse_linear_bn_eval(linear, bn)
    _check_bn_for_qat(bn, linear.out_features, 'Output features of Linear', 'BatchNorm1d')
    return nni.LinearBn1d(linear, bn)


def fuse_convtranspose_bn(is_qat, convt, bn):
    """ConvTranspose + BN, folded (eval only)."""
    _check_same_mode('ConvTranspose', convt, bn)
    if is_qat:
        raise Exception("Fusing ConvTranspose+BatchNorm not yet supported in QAT.")
    return fuse_conv_bn_eval(convt, bn, transpose=True)


def _sequential_wrapper2(sequential):
    def fuser_method(is_qat, m1, m2):
        return sequential(m1, m2)
    return fuser_method


_DEFAULT_OP_LIST_TO_FUSER_METHOD = {
    (nn.Conv1d, nn.BatchNorm1d): fuse_conv_bn,
    (nn.Conv1d, nn.BatchNorm1d, nn.ReLU): fuse_conv_bn_relu,
    (nn.Conv2d, nn.BatchNorm2d): fuse_conv_bn,
    (nn.Conv2d, nn.BatchNorm2d, nn.ReLU): fuse_conv_bn_relu,
    (nn.Conv3d, nn.BatchNorm3d): fuse_conv_bn,
    (nn.Conv3d, nn.BatchNorm3d, nn.ReLU): fuse_conv_bn_relu,
    (nn.Conv1d, nn.ReLU): _sequential_wrapper2(nni.ConvReLU1d),
    (nn.Conv2d, nn.ReLU): _sequential_wrapper2(nni.ConvReLU2d),
    (nn.Conv3d, nn.ReLU): _sequential_wrapper2(nni.ConvReLU3d),
    (nn.Linear, nn.BatchNorm1d): fuse_linear_bn,
    (nn.Linear, nn.ReLU): _sequential_wrapper2(nni.LinearReLU),
    (nn.BatchNorm2d, nn.ReLU): _sequential_wrapper2(nni.BNReLU2d),
    (nn.BatchNorm3d, nn.ReLU): _sequential_wrapper2(nni.BNReLU3d),
    (nn.ConvTranspose1d, nn.BatchNorm1d): fuse_convtranspose_bn,
    (nn.ConvTranspose2d, nn.BatchNorm2d): fuse_convtranspose_bn,
    (nn.ConvTranspose3d, nn.BatchNorm3d): fuse_convtranspose_bn,
}


def get_fuser_method(op_list, additional_fuser_method_mapping=None):
    """The fuser method for a tuple of module types."""
    all_mappings = get_combined_dict(_DEFAULT_OP_LIST_TO_FUSER_METHOD,
                                     additional_fuser_method_mapping or {})
    fuser_method = all_mappings.get(op_list, None)
    if fuser_method is None:
        raise AssertionError(f"did not find fuser method for: {op_list} ")
    return fuser_method

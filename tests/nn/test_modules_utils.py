"""ember.nn.modules.utils: the one home of the layers' argument helpers, as torch's."""
from collections import OrderedDict

import pytest

import ember
from ember.nn.modules import utils as eu

torch = pytest.importorskip('torch')
from torch.nn.modules import utils as tu  # noqa: E402


@pytest.mark.parametrize('name', ['_single', '_pair', '_triple', '_quadruple'])
@pytest.mark.parametrize('value', [3, (1, 2), [4, 5, 6], range(2), torch.Size([2, 3])])
def test_ntuple_parsers_match_torch(name, value):
    ours, theirs = getattr(eu, name), getattr(tu, name)
    assert ours(value) == theirs(value)
    assert ours.__name__ == theirs.__name__ == name


def test_reverse_repeat_tuple_and_list_with_default():
    assert eu._reverse_repeat_tuple((1, 2, 3), 2) == tu._reverse_repeat_tuple((1, 2, 3), 2)
    for out, default in [([None, 4], [1, 2, 3, 5]), ([7, None], [3, 8, 9]), (5, [1, 2])]:
        assert eu._list_with_default(out, default) == tu._list_with_default(out, default)
    with pytest.raises(ValueError) as theirs:
        tu._list_with_default([None, 4], [1, 2])
    with pytest.raises(ValueError, match=f'^{theirs.value}$'):
        eu._list_with_default([None, 4], [1, 2])


def test_consume_prefix_in_state_dict_if_present_matches_torch():
    def state(lib):
        sd = OrderedDict([('module.w', 1), ('module.sub.b', 2), ('other', 3)])
        sd._metadata = OrderedDict([('', {}), ('module', {'v': 1}), ('module.sub', {'v': 2})])
        return sd
    ours, theirs = state(ember), state(torch)
    eu.consume_prefix_in_state_dict_if_present(ours, 'module.')
    tu.consume_prefix_in_state_dict_if_present(theirs, 'module.')
    assert list(ours.items()) == list(theirs.items())
    assert list(ours._metadata.items()) == list(theirs._metadata.items())


def test_layers_share_the_helpers():
    # one definition each: the layer modules import them from nn.modules.utils
    from ember.nn.modules import conv, linear, padding, pooling, rnn, sparse, transformer
    assert conv._ntuple is pooling._ntuple is padding._ntuple is eu._ntuple
    assert rnn._empty is sparse._empty is transformer._empty is eu._empty
    assert conv._weight_and_bias is linear._weight_and_bias is eu._weight_and_bias
    assert ember.nn.Conv2d(1, 2, 3).kernel_size == (3, 3)

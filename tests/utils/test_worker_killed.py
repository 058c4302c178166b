"""A DataLoader worker killed by a signal is reported as torch reports it (a RuntimeError
naming the worker), not after the status-check interval or a timeout."""
import os
import re
import signal
import time

import pytest

import ember
import torch

# torch raises one or the other, depending on whether its SIGCHLD handler or its queue poll
# notices first
_MSG = re.compile(r"DataLoader worker \(pid(\(s\))? [\d, ]+\) (exited unexpectedly|is killed by "
                  r"signal: Killed\. )")


class _Slow:
    def __len__(self):
        return 400

    def __getitem__(self, i):
        time.sleep(0.02)
        return i


@pytest.mark.parametrize('lib', [torch, ember], ids=['torch', 'ember'])
def test_killed_worker_raises(lib):
    dl = lib.utils.data.DataLoader(_Slow(), batch_size=2, num_workers=2,
                                   multiprocessing_context='fork')
    it = iter(dl)
    next(it)
    os.kill(it._workers[0].pid, signal.SIGKILL)
    with pytest.raises(RuntimeError) as info:
        for _ in range(len(dl)):
            next(it)
    assert _MSG.search(str(info.value)), str(info.value)
    del it

"""The seed documents' networks built, printed, trained and saved: `ember demo --seeds`.

    python examples/demo.py                               # runs on ember
    EMBER_DEMO_FRAMEWORK=torch python examples/demo.py    # the same program on PyTorch

The program itself is ember/_demo_seeds.py: ordinary PyTorch code that does `import torch`,
answered by ember's import hook unless PyTorch is asked for. `ember demo` (ember/_demo.py)
trains the seeds' LeNet on real handwritten digits.
"""
import os
import sys

from ember._demo import main

if __name__ == '__main__':
    sys.exit(main(['--seeds', '--framework', os.environ.get('EMBER_DEMO_FRAMEWORK', 'ember')]))

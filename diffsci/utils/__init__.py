"""Shared utilities for long runs: progress display, atomic checkpoints, chunked runs, sharding,
and `RESULTS`, the one status enumeration of every solver and long run (`result_name` names one).

Nothing here imports the numerical subpackages, so every layer (flows, physics) can use it.
"""

from diffsci._internal._results import RESULTS as RESULTS
from diffsci._internal._results import result_name as result_name

from ._checkpoint import CheckpointError as CheckpointError
from ._checkpoint import checkpoint_exists as checkpoint_exists
from ._checkpoint import load_checkpoint as load_checkpoint
from ._checkpoint import read_checkpoint_metadata as read_checkpoint_metadata
from ._checkpoint import read_run_checkpoint_metadata as read_run_checkpoint_metadata
from ._checkpoint import save_checkpoint as save_checkpoint
from ._driver import ACCEPT as ACCEPT
from ._driver import Accept as Accept
from ._driver import Callback as Callback
from ._driver import History as History
from ._driver import JSONLinesLog as JSONLinesLog
from ._driver import PrintEvery as PrintEvery
from ._driver import Reject as Reject
from ._driver import Run as Run
from ._driver import RunResult as RunResult
from ._driver import Stop as Stop
from ._driver import drive as drive
from ._driver import run_chunked as run_chunked
from ._progress import ProgressBar as ProgressBar
from ._sharding import batch_mesh as batch_mesh
from ._sharding import batch_sharding as batch_sharding
from ._sharding import shard_batch as shard_batch
from ._variational import VariationalEstimate as VariationalEstimate
from ._variational import variational_free_energy as variational_free_energy
from ._variational import variational_objective as variational_objective

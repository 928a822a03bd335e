"""Dense eigensolvers, decompositions and matrix functions whose derivatives are right at
degeneracies.

- `eigh`, `eigvalsh`: Hermitian (and generalized) eigenproblems, with a degeneracy policy and a
  gauge diagnostic.
- `funm`, `projector`, `band_energy`: gauge-invariant quantities, exact at any degeneracy,
  Hessians included.
- Degeneracy policies (`MaskDegeneracies`, `LorentzianBroadening`, `RaiseOnDegeneracy`) and the
  helper `inverse_differences` that every rule with a $1/(x_i - x_j)$ uses.
"""

from ._degeneracy import AbstractDegeneracyPolicy as AbstractDegeneracyPolicy
from ._degeneracy import LorentzianBroadening as LorentzianBroadening
from ._degeneracy import MaskDegeneracies as MaskDegeneracies
from ._degeneracy import RaiseOnDegeneracy as RaiseOnDegeneracy
from ._degeneracy import default_rtol as default_rtol
from ._degeneracy import degeneracy_tolerance as degeneracy_tolerance
from ._degeneracy import degenerate_pairs as degenerate_pairs
from ._degeneracy import inverse_differences as inverse_differences
from ._eigh import eigh as eigh
from ._eigh import eigvalsh as eigvalsh
from ._eigsh import EigshResult as EigshResult
from ._eigsh import eigsh as eigsh
from ._funm import band_energy as band_energy
from ._funm import expmh as expmh
from ._funm import funm as funm
from ._funm import logmh as logmh
from ._funm import projector as projector
from ._funm import sqrtmh as sqrtmh
from ._gauge import GaugeDependence as GaugeDependence
from ._gauge import gauge_dependence as gauge_dependence
from ._qr import qr as qr
from ._svd import svd as svd
from ._svd import truncated_svd as truncated_svd

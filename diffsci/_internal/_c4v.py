"""The point group C4v of the square lattice, as permutations of the axes of a tensor.

Shared by `tn` (symmetrizing and checking an iPEPS site tensor, the CTMRG of a C4v-symmetric
tensor) and `physics` (building the published iPEPS states from their symmetry orbits).
"""

# The eight elements of C4v as permutations of the four virtual legs (u, l, d, r): the rotations
# by 90 degrees (cyclic shifts) and the four reflections.
C4V_LEGS = (
    (0, 1, 2, 3),
    (1, 2, 3, 0),
    (2, 3, 0, 1),
    (3, 0, 1, 2),
    (0, 3, 2, 1),  # left <-> right
    (2, 1, 0, 3),  # up <-> down
    (1, 0, 3, 2),  # u <-> l, d <-> r (a diagonal)
    (3, 2, 1, 0),  # u <-> r, l <-> d (the other diagonal)
)

# The same elements, in the same order, as permutations of the axes (s, u, l, d, r) of a site
# tensor A^s_{uldr}: the physical axis s stays in place.
C4V_SITE = tuple((0, *(i + 1 for i in p)) for p in C4V_LEGS)

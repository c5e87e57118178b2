"""The Merkle tree of RFC 9162 (Certificate Transparency v2), section 2.1, with SHA-256.

Pure functions, no I/O. A leaf hash is SHA-256(0x00 || data) and an interior node
SHA-256(0x01 || left || right): the different prefixes stop a leaf from passing as a node
(a second-preimage attack). A tree of n > 1 leaves splits at k, the largest power of two
smaller than n, so every tree of a given size has one shape and the log only ever grows on
its right edge.

Proof generators take every leaf hash, which suits tests and small trees; `Frontier` keeps
only the right edge, which is all a writer needs to compute the next root after an append,
and `consistency_proof_from` proves a newer tree from an older tree's frontier and the
leaves added since, so a log can prove itself to its witness every few seconds without
reading its whole history.

The verifiers follow the algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2 and never
raise: on any input that is not a valid proof (wrong length, index past the end, sizes out
of order, a hash of the wrong size or type) they return False.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
# RFC 9162 2.1.1: the hash of an empty tree is the hash of the empty string, no prefix.
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Hash one leaf's data.

    Args:
        data: the leaf's bytes (for the audit log, an event's salted commitment).

    Returns:
        SHA-256(0x00 || data), 32 bytes.
    """
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash an interior node from its children's hashes.

    Args:
        left: the left child's hash.
        right: the right child's hash.

    Returns:
        SHA-256(0x01 || left || right), 32 bytes.
    """
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Compute the Merkle Tree Hash (MTH) of a list of leaf hashes.

    Args:
        leaf_hashes: the leaves' hashes, from `leaf_hash`, in log order.

    Returns:
        The tree's root hash; `EMPTY_ROOT` for no leaves.
    """
    return _mth(leaf_hashes, 0, len(leaf_hashes))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Build the audit path (RFC 9162 2.1.3.1) of one leaf in the tree of all the leaves.

    Args:
        leaf_hashes: every leaf hash of the tree, in log order.
        index: the leaf's position, counting from 0.

    Returns:
        The sibling hashes from the leaf up to the root.

    Raises:
        ValueError: the index is not that of a leaf in the tree.
    """
    if not 0 <= index < len(leaf_hashes):
        raise ValueError(f"no leaf {index} in a tree of {len(leaf_hashes)} leaves")
    return _path(leaf_hashes, index, 0, len(leaf_hashes))


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """Build the proof (RFC 9162 2.1.4.1) that the tree's first old_size leaves are unchanged.

    Args:
        leaf_hashes: every leaf hash of the newer tree, in log order.
        old_size: the size of the older tree, 0 to len(leaf_hashes).

    Returns:
        The hashes the verifier needs; empty when old_size is 0 or the whole tree, for which
        the RFC defines no proof and `verify_consistency` expects none.

    Raises:
        ValueError: old_size is negative or larger than the tree.
    """
    size = len(leaf_hashes)
    if not 0 <= old_size <= size:
        raise ValueError(f"cannot prove a tree of {old_size} leaves against one of {size}")
    if old_size in (0, size):
        return []
    return _subproof(leaf_hashes, old_size, 0, size, whole=True)


def consistency_proof_from(old: Frontier, added: Sequence[bytes]) -> list[bytes]:
    """Build the same proof as `consistency_proof` from the older tree's frontier and the
    leaves added since, without the older leaves.

    Every hash of the proof is either a complete subtree of the older tree, or the part of
    it from one such subtree to its end, both of which the frontier holds, or a subtree of
    the added leaves.

    Args:
        old: the frontier of the older tree.
        added: the leaf hashes appended after it, in log order.

    Returns:
        The proof from old.size to old.size + len(added), as `consistency_proof` gives it.
    """
    m, size = old.size, old.size + len(added)
    if m in (0, size):
        return []
    starts, at = [], 0
    for bit in reversed(range(m.bit_length())):
        if m >> bit & 1:
            starts.append(at)
            at += 1 << bit

    def subtree(start: int, end: int) -> bytes:
        if start >= m:
            return _mth(added, start - m, end - m)
        first = starts.index(start)  # a subtree of the older tree starts on its frontier
        hashes = old.hashes[first:]
        if end < m:
            hashes = hashes[:1]
        return Frontier(end - start, hashes).root()

    return _subproof_of(subtree, m, 0, size, whole=True)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an audit path with the algorithm of RFC 9162 2.1.3.2.

    The proof binds the leaf to the root, and only through the root to the size: take the
    size and root together from one signed checkpoint.

    Args:
        leaf_hash: the hash of the leaf said to be included.
        index: its position, counting from 0.
        size: the number of leaves in the tree whose root is given.
        proof: the audit path, as from `inclusion_proof`.
        root: the tree's root hash.

    Returns:
        True if the proof shows the leaf at that index; False for anything else, including
        a proof of the wrong length, index >= size and arguments of the wrong type.
    """
    if not (_is_count(index) and _is_count(size) and _is_hash(leaf_hash) and _is_hash(root)):
        return False
    if index >= size or not _is_sequence(proof):
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        # sn reaching 0 means the path has reached the root: a longer proof is wrong.
        if sn == 0 or not _is_hash(p):
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # On the right edge, levels where the node has no sibling are skipped.
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check that the tree of new_size leaves extends the one of old_size (RFC 9162 2.1.4.2).

    The RFC defines proofs for 0 < old_size < new_size. For the rest, as `consistency_proof`
    builds them: equal sizes need an empty proof and equal roots; an empty old tree needs
    an empty proof and `EMPTY_ROOT` as its root, and is consistent with any newer tree.

    Args:
        old_size: leaves in the older tree.
        new_size: leaves in the newer tree.
        old_root: the older tree's root hash.
        new_root: the newer tree's root hash.
        proof: the proof, as from `consistency_proof`.

    Returns:
        True if the proof shows the older tree is a prefix of the newer one; False for
        anything else, including old_size > new_size and arguments of the wrong type.
    """
    if not (_is_count(old_size) and _is_count(new_size) and old_size <= new_size):
        return False
    if not (_is_hash(old_root) and _is_hash(new_root) and _is_sequence(proof)):
        return False
    if old_size == 0:
        empty_ok = new_size > 0 or hmac.compare_digest(new_root, EMPTY_ROOT)
        return not proof and empty_ok and hmac.compare_digest(old_root, EMPTY_ROOT)
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    if not proof:
        return False
    # The RFC leaves the old root out of the proof when the old tree is a complete subtree.
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    return _walk_consistency(old_size, new_size, old_root, new_root, path)


@dataclass(frozen=True)
class Frontier:
    """The right edge of a tree: enough to compute its root and the root after an append.

    A tree of `size` leaves is a row of complete subtrees, one per 1-bit of `size`, largest
    first; `hashes` holds their roots, left to right. That is at most 64 hashes for any log
    that fits in 64 bits, so a writer can store it beside its last checkpoint and append
    without reading every leaf back.

    Attributes:
        size: the number of leaves.
        hashes: the roots of the complete subtrees, left to right.
    """

    size: int = 0
    hashes: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        # Stored state that does not fit its size is corruption, not a tree.
        if not _is_count(self.size) or len(self.hashes) != self.size.bit_count():
            raise ValueError(f"a frontier of {self.size} leaves needs one hash per 1-bit")
        if not all(_is_hash(h) for h in self.hashes):
            raise ValueError(f"frontier hashes must be {HASH_SIZE} bytes each")

    @classmethod
    def from_leaves(cls, leaf_hashes: Sequence[bytes]) -> Frontier:
        """Return the frontier of the tree of these leaf hashes."""
        frontier = cls()
        for h in leaf_hashes:
            frontier = frontier.append(h)
        return frontier

    def append(self, leaf_hash: bytes) -> Frontier:
        """Return the frontier of this tree with one more leaf; self is unchanged.

        Args:
            leaf_hash: the new leaf's hash, from `leaf_hash`.

        Returns:
            The frontier of size + 1 leaves.
        """
        if not _is_hash(leaf_hash):
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes")
        hashes = [*self.hashes, leaf_hash]
        # Like adding 1 in binary: each trailing 1-bit of size is a subtree as large as the
        # one just completed, so the two merge, and the carry moves up.
        carry = self.size
        while carry & 1:
            right, left = hashes.pop(), hashes.pop()
            hashes.append(node_hash(left, right))
            carry >>= 1
        return Frontier(self.size + 1, tuple(hashes))

    def root(self) -> bytes:
        """Return the root hash of the tree, the same as `root` of all its leaf hashes."""
        if not self.hashes:
            return EMPTY_ROOT
        # The RFC split puts the largest complete subtree on the left, and the rest to its
        # right recursively, so the root folds the row from the right.
        result = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            result = node_hash(h, result)
        return result


def _split(n: int) -> int:
    """Return the largest power of two smaller than n (n > 1), where RFC 9162 splits."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    """Return MTH(D[start:end]), by index so that no slices are copied."""
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[start]
    k = _split(n)
    return node_hash(_mth(leaves, start, start + k), _mth(leaves, start + k, end))


def _path(leaves: Sequence[bytes], m: int, start: int, end: int) -> list[bytes]:
    """Return PATH(m, D[start:end]) of RFC 9162 2.1.3.1, m counted from start."""
    n = end - start
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(leaves, m, start, start + k), _mth(leaves, start + k, end)]
    return [*_path(leaves, m - k, start + k, end), _mth(leaves, start, start + k)]


def _subproof(leaves: Sequence[bytes], m: int, start: int, end: int, whole: bool) -> list[bytes]:
    """Return SUBPROOF(m, D[start:end], whole) of RFC 9162 2.1.4.1."""
    return _subproof_of(lambda a, b: _mth(leaves, a, b), m, start, end, whole)


def _subproof_of(
    subtree: Callable[[int, int], bytes], m: int, start: int, end: int, whole: bool
) -> list[bytes]:
    """SUBPROOF, with `subtree(a, b)` giving MTH(D[a:b]) however the caller knows it."""
    n = end - start
    if m == n:
        # A subtree that is the whole old tree is known to the verifier: leave it out.
        return [] if whole else [subtree(start, end)]
    k = _split(n)
    if m <= k:
        head = _subproof_of(subtree, m, start, start + k, whole)
        return [*head, subtree(start + k, end)]
    return [*_subproof_of(subtree, m - k, start + k, end, False), subtree(start, start + k)]


def _walk_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: list[bytes]
) -> bool:
    """Run steps 3 to 7 of RFC 9162 2.1.4.2 over a non-empty path."""
    if not all(_is_hash(c) for c in path):
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_count(value: object) -> bool:
    # bool is an int in Python; True as a size is a bug, not a tree of one leaf.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_sequence(value: object) -> bool:
    # bytes and str are sequences too, of ints and of characters: never a list of hashes.
    return isinstance(value, Sequence) and not isinstance(value, bytes | bytearray | str)

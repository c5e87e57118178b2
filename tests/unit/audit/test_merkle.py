"""The RFC 9162 Merkle tree: worked cases, the RFC's example, published vectors, properties,
and a cross-check against pymerkle, an independent implementation."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pymerkle  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contactpoint.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    consistency_proof_from,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)


def h_leaf(data: bytes) -> bytes:
    """The leaf hash written out from RFC 9162 2.1.1, independently of the module."""
    return hashlib.sha256(b"\x00" + data).digest()


def h_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(f"event {i}".encode()) for i in range(n)]


def flip(value: bytes, at: int) -> bytes:
    return value[:at] + bytes([value[at] ^ 0x08]) + value[at + 1 :]


# -- hashing, worked by hand ---------------------------------------------------------------


def test_the_empty_tree_is_the_hash_of_the_empty_string() -> None:
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_leaves_and_nodes_are_hashed_with_different_prefixes() -> None:
    assert leaf_hash(b"") == h_leaf(b"")
    assert leaf_hash(b"") != hashlib.sha256(b"").digest()
    a, b = h_leaf(b"a"), h_leaf(b"b")
    assert node_hash(a, b) == h_node(a, b)
    # A node's bytes given as a leaf's data do not hash to the node: no second preimage.
    assert leaf_hash(b"\x01" + a + b) != node_hash(a, b)


def test_a_one_leaf_tree_has_the_leaf_as_its_root() -> None:
    a = h_leaf(b"a")
    assert root([a]) == a


def test_two_and_three_leaves() -> None:
    a, b, c = (h_leaf(x) for x in (b"a", b"b", b"c"))
    assert root([a, b]) == h_node(a, b)
    # Three leaves split 2 + 1, not 1 + 2: the left subtree is the largest power of two.
    assert root([a, b, c]) == h_node(h_node(a, b), c)


def test_seven_and_eight_leaves() -> None:
    d = [h_leaf(bytes([i])) for i in range(8)]
    left = h_node(h_node(d[0], d[1]), h_node(d[2], d[3]))
    assert root(d[:7]) == h_node(left, h_node(h_node(d[4], d[5]), d[6]))
    assert root(d) == h_node(left, h_node(h_node(d[4], d[5]), h_node(d[6], d[7])))


# -- RFC 9162 2.1.5: the example tree of seven leaves --------------------------------------
#
#             hash
#            /    \
#           k      l
#          / \    / \
#         g   h  i   j
#        / \ / \ / \  |
#        a b c d e f  d6


@pytest.fixture
def rfc_tree() -> dict[str, bytes]:
    t = {name: h_leaf(name.encode()) for name in ("a", "b", "c", "d", "e", "f")}
    t["j"] = h_leaf(b"d6")
    t["g"], t["h"], t["i"] = h_node(t["a"], t["b"]), h_node(t["c"], t["d"]), h_node(t["e"], t["f"])
    t["k"], t["l"] = h_node(t["g"], t["h"]), h_node(t["i"], t["j"])
    t["hash"] = h_node(t["k"], t["l"])
    return t


def rfc_leaves(t: dict[str, bytes]) -> list[bytes]:
    return [t[x] for x in ("a", "b", "c", "d", "e", "f", "j")]


@pytest.mark.parametrize(("index", "path"), [(0, "b h l"), (3, "c g l"), (4, "f j k"), (6, "i k")])
def test_the_rfc_example_inclusion_proofs(
    rfc_tree: dict[str, bytes], index: int, path: str
) -> None:
    tree = rfc_leaves(rfc_tree)
    expected = [rfc_tree[x] for x in path.split()]
    assert root(tree) == rfc_tree["hash"]
    assert inclusion_proof(tree, index) == expected
    assert verify_inclusion(tree[index], index, 7, expected, rfc_tree["hash"])


@pytest.mark.parametrize(
    ("old_size", "old_root", "path"), [(3, None, "c d g l"), (4, "k", "l"), (6, None, "i j k")]
)
def test_the_rfc_example_consistency_proofs(
    rfc_tree: dict[str, bytes], old_size: int, old_root: str | None, path: str
) -> None:
    tree = rfc_leaves(rfc_tree)
    expected = [rfc_tree[x] for x in path.split()]
    if old_root is not None:
        # hash1 of the RFC: the old tree of 4 is the complete subtree k, so k is not sent.
        assert root(tree[:old_size]) == rfc_tree[old_root]
    assert consistency_proof(tree, old_size) == expected
    assert verify_consistency(old_size, 7, root(tree[:old_size]), rfc_tree["hash"], expected)


# -- The Certificate Transparency test vectors (transparency-dev/merkle, data only) ---------

CT_DATA = [
    bytes.fromhex(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [
    (0, 8, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7 "
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e "
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    (5, 8, "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b "
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0 "
     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    (2, 3, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    (1, 5, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d "
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e "
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
]  # fmt: skip
CT_CONSISTENCY = [
    (1, 8, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7 "
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e "
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    (6, 8, "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a "
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0 "
     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    (2, 5, "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e "
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    (6, 7, "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a "
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f "
     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
]  # fmt: skip


def ct_leaves() -> list[bytes]:
    return [leaf_hash(d) for d in CT_DATA]


def test_the_roots_match_the_published_vectors() -> None:
    tree = ct_leaves()
    assert [root(tree[:n]).hex() for n in range(1, 9)] == CT_ROOTS


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_the_inclusion_proofs_match_the_published_vectors(index: int, size: int, path: str) -> None:
    tree = ct_leaves()[:size]
    assert [p.hex() for p in inclusion_proof(tree, index)] == path.split()


@pytest.mark.parametrize(("old_size", "size", "path"), CT_CONSISTENCY)
def test_the_consistency_proofs_match_the_published_vectors(
    old_size: int, size: int, path: str
) -> None:
    tree = ct_leaves()[:size]
    assert [p.hex() for p in consistency_proof(tree, old_size)] == path.split()


# -- Edges and refusals ----------------------------------------------------------------------


def test_proofs_are_asked_of_leaves_and_sizes_that_exist() -> None:
    with pytest.raises(ValueError, match="no leaf 3"):
        inclusion_proof(leaves(3), 3)
    with pytest.raises(ValueError, match="no leaf -1"):
        inclusion_proof(leaves(3), -1)
    with pytest.raises(ValueError, match="cannot prove a tree of 4"):
        consistency_proof(leaves(3), 4)


def test_nothing_is_included_in_an_empty_tree() -> None:
    assert not verify_inclusion(leaves(1)[0], 0, 0, [], EMPTY_ROOT)


def test_the_trivial_consistency_cases() -> None:
    tree = leaves(5)
    r5 = root(tree)
    assert consistency_proof(tree, 0) == [] == consistency_proof(tree, 5)
    assert verify_consistency(0, 5, EMPTY_ROOT, r5, [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(5, 5, r5, r5, [])
    # An empty tree has one root, and equal sizes need equal roots and nothing more.
    assert not verify_consistency(0, 5, r5, r5, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, r5, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, r5, [r5])
    assert not verify_consistency(5, 5, r5, root(tree[:4]), [])
    assert not verify_consistency(5, 5, r5, r5, [r5])
    # The log shrank.
    assert not verify_consistency(5, 4, r5, root(tree[:4]), [])


def test_the_size_is_bound_by_the_root_not_by_the_proof() -> None:
    # RFC 9162 inclusion proofs do not encode the size: leaf 0's path in a tree of 3,
    # [b, c], walks the same way in a tree of 4. The verifier is only as good as the
    # (size, root) pair it is given, which is why both come from one signed checkpoint.
    tree = leaves(3)
    assert verify_inclusion(tree[0], 0, 4, inclusion_proof(tree, 0), root(tree))
    # Likewise the proof that 1 leaf grew into 3 walks the same way from 1 to 4.
    assert verify_consistency(1, 4, tree[0], root(tree), consistency_proof(tree, 1))


@pytest.mark.parametrize(
    "bad",
    [
        {"index": True},
        {"index": -1},
        {"size": 2.0},
        {"leaf_hash": "not bytes"},
        {"leaf_hash": b"short"},
        {"root": bytearray(32)},
        {"proof": None},
        {"proof": b"\x00" * 32},
        {"proof": ["ab" * 16]},
        {"proof": [b"\x00" * 32] * 100_000},
    ],
)
def test_verify_inclusion_returns_false_on_hostile_arguments(bad: dict[str, object]) -> None:
    tree = leaves(2)
    args: dict[str, object] = {
        "leaf_hash": tree[0],
        "index": 0,
        "size": 2,
        "proof": inclusion_proof(tree, 0),
        "root": root(tree),
    }
    assert verify_inclusion(**args)  # type: ignore[arg-type]
    assert not verify_inclusion(**{**args, **bad})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        {"old_size": True},
        {"new_size": -3},
        {"old_size": "2"},
        {"old_root": b""},
        {"new_root": None},
        {"proof": None},
        {"proof": "abc"},
        {"proof": [None]},
    ],
)
def test_verify_consistency_returns_false_on_hostile_arguments(bad: dict[str, object]) -> None:
    tree = leaves(3)
    args: dict[str, object] = {
        "old_size": 2,
        "new_size": 3,
        "old_root": root(tree[:2]),
        "new_root": root(tree),
        "proof": consistency_proof(tree, 2),
    }
    assert verify_consistency(**args)  # type: ignore[arg-type]
    assert not verify_consistency(**{**args, **bad})  # type: ignore[arg-type]


def test_a_frontier_refuses_state_that_does_not_fit_its_size() -> None:
    h = leaves(1)[0]
    with pytest.raises(ValueError, match="one hash per 1-bit"):
        Frontier(3, (h,))
    with pytest.raises(ValueError, match="32 bytes"):
        Frontier(1, (b"short",))
    with pytest.raises(ValueError, match="32 bytes"):
        Frontier().append(b"short")


def test_a_frontier_keeps_one_hash_per_complete_subtree() -> None:
    tree = leaves(7)
    frontier = Frontier.from_leaves(tree)
    # 7 = 4 + 2 + 1: the subtrees over leaves 0-3, 4-5 and 6.
    assert frontier.hashes == (root(tree[:4]), root(tree[4:6]), tree[6])
    assert frontier.append(leaves(8)[7]).hashes == (root(leaves(8)),)


# -- Properties ------------------------------------------------------------------------------

trees = st.lists(st.binary(max_size=8), max_size=64).map(lambda xs: [leaf_hash(x) for x in xs])
distinct_trees = st.lists(st.binary(max_size=8), min_size=1, max_size=64, unique=True).map(
    lambda xs: [leaf_hash(x) for x in xs]
)


@given(trees)
def test_every_inclusion_proof_verifies(tree: list[bytes]) -> None:
    r = root(tree)
    for index, h in enumerate(tree):
        assert verify_inclusion(h, index, len(tree), inclusion_proof(tree, index), r)


@given(trees)
def test_every_consistency_proof_verifies(tree: list[bytes]) -> None:
    r = root(tree)
    for old_size in range(len(tree) + 1):
        proof = consistency_proof(tree, old_size)
        assert verify_consistency(old_size, len(tree), root(tree[:old_size]), r, proof)


def test_a_proof_from_a_frontier_is_the_proof_from_every_leaf_for_every_pair_of_sizes() -> None:
    tree = leaves(70)
    for new_size in range(71):
        for old_size in range(new_size + 1):
            old = Frontier.from_leaves(tree[:old_size])
            added = tree[old_size:new_size]
            expected = consistency_proof(tree[:new_size], old_size)
            assert consistency_proof_from(old, added) == expected, (old_size, new_size)


@given(trees)
def test_the_frontier_root_equals_the_root_after_every_append(tree: list[bytes]) -> None:
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for n, h in enumerate(tree, start=1):
        before = frontier
        frontier = frontier.append(h)
        assert frontier.size == n
        assert frontier.root() == root(tree[:n])
        assert before.size == n - 1  # append leaves the stored state alone


def inclusion_forgeries(
    tree: list[bytes], index: int, proof: list[bytes]
) -> list[tuple[str, bytes, int, int, list[bytes]]]:
    """Every way of getting an inclusion proof wrong, as (what, leaf, index, size, proof)."""
    n, h = len(tree), tree[index]
    other = leaf_hash(b"a leaf that is not in the tree")
    cases = [
        ("index - 1", h, index - 1, n, proof),
        ("index + 1", h, index + 1, n, proof),
        ("index ^ 2", h, index ^ 2, n, proof),
        ("size * 2", h, index, n * 2, proof),
        ("size // 2", h, index, n // 2, proof),
        ("another leaf", other, index, n, proof),
        ("hash added at the end", h, index, n, [*proof, other]),
        ("hash added at the start", h, index, n, [other, *proof]),
    ]
    for i in range(len(proof)):
        cases.append((f"hash {i} dropped", h, index, n, proof[:i] + proof[i + 1 :]))
        for at in (0, 31):
            forged = [*proof]
            forged[i] = flip(proof[i], at)
            cases.append((f"hash {i} byte {at} flipped", h, index, n, forged))
    return cases


@given(distinct_trees, st.data())
def test_a_tampered_inclusion_proof_is_rejected(tree: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(tree) - 1))
    proof, r = inclusion_proof(tree, index), root(tree)
    assert verify_inclusion(tree[index], index, len(tree), proof, r)
    for what, h, i, n, forged in inclusion_forgeries(tree, index, proof):
        assert not verify_inclusion(h, i, n, forged, r), what
    assert not verify_inclusion(tree[index], index, len(tree), proof, flip(r, 5))


def consistency_forgeries(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    """Every way of getting a consistency proof wrong, as (what, old, new, roots, proof)."""
    other = leaf_hash(b"not a hash in the tree")
    cases = [
        ("old size - 1", old - 1, new, old_root, new_root, proof),
        ("old size + 1", old + 1, new, old_root, new_root, proof),
        ("old size ^ 2", old ^ 2, new, old_root, new_root, proof),
        ("new size * 2", old, new * 2, old_root, new_root, proof),
        ("new size // 2", old, new // 2, old_root, new_root, proof),
        ("wrong old root", old, new, flip(old_root, 0), new_root, proof),
        ("wrong new root", old, new, old_root, flip(new_root, 31), proof),
        ("swapped roots", old, new, new_root, old_root, proof),
        ("empty proof", old, new, old_root, new_root, []),
        ("hash added at the end", old, new, old_root, new_root, [*proof, other]),
        ("old root added at the end", old, new, old_root, new_root, [*proof, old_root]),
        ("hash added at the start", old, new, old_root, new_root, [other, *proof]),
        ("first hash repeated", old, new, old_root, new_root, [proof[0], *proof]),
    ]
    for i in range(len(proof)):
        cases.append(
            (f"hash {i} dropped", old, new, old_root, new_root, proof[:i] + proof[i + 1 :])
        )
        for at in (0, 17):
            forged = [*proof]
            forged[i] = flip(proof[i], at)
            cases.append((f"hash {i} byte {at} flipped", old, new, old_root, new_root, forged))
    return cases


@given(distinct_trees.filter(lambda t: len(t) > 1), st.data())
def test_a_tampered_consistency_proof_is_rejected(tree: list[bytes], data: st.DataObject) -> None:
    new = len(tree)
    old = data.draw(st.integers(1, new - 1))
    old_root, new_root = root(tree[:old]), root(tree)
    proof = consistency_proof(tree, old)
    assert verify_consistency(old, new, old_root, new_root, proof)
    for what, o, n, o_root, n_root, forged in consistency_forgeries(
        old, new, old_root, new_root, proof
    ):
        assert not verify_consistency(o, n, o_root, n_root, forged), what


@given(distinct_trees.filter(lambda t: len(t) > 1), st.data())
def test_a_changed_history_is_not_consistent(tree: list[bytes], data: st.DataObject) -> None:
    # The drill the audit log exists for: rewrite one old leaf, then prove the new tree
    # extends the old checkpoint. The honest proof of the rewritten tree must not verify.
    new = len(tree)
    old = data.draw(st.integers(1, new - 1))
    victim = data.draw(st.integers(0, old - 1))
    rewritten = [*tree]
    rewritten[victim] = leaf_hash(b"forged event")
    proof = consistency_proof(rewritten, old)
    assert not verify_consistency(old, new, root(tree[:old]), root(rewritten), proof)


# -- Cross-check against pymerkle ------------------------------------------------------------
#
# pymerkle 7 hashes as RFC 9162 by default (0x00/0x01 prefixes, SHA-256 of b"" for an empty
# tree), counts leaves from 1, and puts the leaf itself first in an inclusion path. Its
# consistency proofs are its own shape, not RFC 9162's (when the old size is a power of two
# it walks right where the RFC walks left), so for those it is checked that pymerkle's proof
# joins our two roots, rather than that the hashes are the same.


def pymerkle_tree(data: Sequence[bytes]) -> Any:
    return pymerkle.InmemoryTree.init_from_entries(list(data), algorithm="sha256")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=8), max_size=64))
def test_roots_and_proofs_agree_with_pymerkle(data: list[bytes]) -> None:
    theirs = pymerkle_tree(data)
    ours = [leaf_hash(d) for d in data]
    for size in range(len(data) + 1):
        assert theirs.get_root(size) == root(ours[:size])
    for index in range(len(data)):
        assert theirs.get_leaf(index + 1) == ours[index]
        path = theirs.prove_inclusion(index + 1).path
        assert path == [ours[index], *inclusion_proof(ours, index)]
    for old_size in range(1, len(data) + 1):
        proof = theirs.prove_consistency(old_size)
        pymerkle.verify_consistency(root(ours[:old_size]), root(ours), proof)


def test_pymerkle_and_we_agree_on_every_small_tree_exhaustively() -> None:
    data = [f"event {i}".encode() for i in range(33)]
    theirs = pymerkle_tree(data)
    ours = [leaf_hash(d) for d in data]
    for size in range(1, len(data) + 1):
        tree = ours[:size]
        assert theirs.get_root(size) == root(tree) == Frontier.from_leaves(tree).root()
        for index in range(size):
            path = theirs.prove_inclusion(index + 1, size).path
            assert path[1:] == inclusion_proof(tree, index)


def test_pymerkle_rejects_a_root_we_did_not_compute() -> None:
    # The cross-check could not pass by accident: pymerkle does refuse a wrong root.
    data = [b"a", b"b", b"c"]
    proof = pymerkle_tree(data).prove_consistency(2)
    ours = [leaf_hash(d) for d in data]
    with pytest.raises(pymerkle.InvalidProof):
        pymerkle.verify_consistency(root(ours[:2]), root(ours[:2]), proof)

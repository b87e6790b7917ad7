"""``console.once``: bounded memory per id (issue 18: a long session grew by one entry per id it ever saw)."""

from __future__ import annotations

from console.once import Labels, Recent, SeenOnce

KEEP = 20


def test_recent_keeps_the_keys_used_last_and_a_look_refreshes_one():
    recent: Recent[int, str] = Recent(KEEP)
    recent.put(0, "live")
    for key in range(1, 3 * KEEP):
        recent.put(key, str(key))
        assert recent.get(0) == "live"  # looked at every time: never the oldest
        assert len(recent) <= KEEP
    assert 1 not in recent and recent.get(3 * KEEP - 1) == str(3 * KEEP - 1)


def test_seen_once_says_first_once_per_key_within_its_bound():
    seen: SeenOnce[str] = SeenOnce(KEEP)
    assert seen.first("live")
    for i in range(3 * KEEP):
        assert seen.first(f"k{i}")
        assert not seen.first(f"k{i}")
        assert not seen.first("live")
    assert len(seen) == KEEP


def test_labels_count_on_and_never_give_a_number_twice():
    labels = Labels("#", KEEP)
    assert labels.label("live") == "#1"
    given = []
    for i in range(3 * KEEP):
        given.append(labels.label(f"c{i}"))
        assert labels.label("live") == "#1"  # on screen: looked at every frame
    assert len(labels) == KEEP
    assert len(set(given)) == len(given) and given[-1] == f"#{3 * KEEP + 1}"
    assert labels.get("c0") is None  # long unseen: dropped (a new look numbers it anew)

import pytest

from transforms.textmap import Edit, TextMap, apply_edits, shift


def test_textmap_identity_maps_each_position_to_itself():
    tmap = TextMap.identity(10)
    assert tmap.raw_span(2, 5) == (2, 5)


def test_textmap_deletion_and_replacement_compose_back_to_raw():
    raw = "Share this:\nXi Jinpingoffered support.\n"
    text, tmap, _, removed = apply_edits(raw, [Edit(0, 12, "")], TextMap.identity(len(raw)))
    assert removed == [(0, 12)]
    assert text == "Xi Jinpingoffered support.\n"
    start = text.index("Xi")
    assert raw[slice(*tmap.raw_span(start, start + 2))] == "Xi"
    glued = text.index("Jinpingoffered")
    text2, tmap2, starts, replaced = apply_edits(text, [Edit(glued, glued + 14, "Jinping offered")], tmap)
    assert text2 == "Xi Jinping offered support.\n"
    assert starts == [glued]
    assert [raw[slice(*span)] for span in replaced] == ["Jinpingoffered"]
    # An entity inside a repaired span maps to the span's whole raw extent.
    jinping = text2.index("Jinping")
    assert raw[slice(*tmap2.raw_span(jinping, jinping + 7))] == "Jinpingoffered"
    # Text after the repair still maps exactly.
    support = text2.index("support")
    assert raw[slice(*tmap2.raw_span(support, support + 7))] == "support"


def test_textmap_rejects_overlapping_edits():
    with pytest.raises(ValueError):
        apply_edits("abcdef", [Edit(0, 3, "x"), Edit(2, 4, "y")], TextMap.identity(6))


def test_textmap_shift_moves_later_positions_only():
    edits = [Edit(2, 4, ""), Edit(10, 10, "abc")]
    assert shift(1, edits) == 1
    assert shift(5, edits) == 3
    assert shift(12, edits) == 13


def test_textmap_edits_in_any_order_give_the_raw_extents_the_map_gave_before():
    raw = "Share this:\nXi Jinpingoffered support.\nPHOTO: REUTERS\nLeave a Comment\n"
    text, tmap, _, _ = apply_edits(raw, [Edit(raw.index("Jinping") + 7, raw.index("Jinping") + 7, " "),
                                         Edit(0, 12, "")], TextMap.identity(len(raw)))
    assert text == "Xi Jinping offered support.\nPHOTO: REUTERS\nLeave a Comment\n"
    edits = [Edit(text.index("Leave"), len(text) - 1, ""), Edit(0, 2, "President Xi"),
             Edit(text.index("PHOTO"), text.index("PHOTO") + 15, ""), Edit(text.index(" offered"), text.index("support"), " ")]
    before = [tmap.raw_span(edit.start, edit.end) for edit in edits]
    new_text, new_map, starts, extents = apply_edits(text, edits, tmap)
    assert new_text == "President Xi Jinping support.\n\n"
    assert extents == before
    assert [raw[slice(*span)] for span in extents] == ["Leave a Comment", "Xi", "PHOTO: REUTERS\n", "offered "]
    assert starts == [30, 0, 30, 20]
    # A span inside a replacement maps to what it replaced; asked out of text order, each answer is
    # the same as asked alone.
    for start, end, expected in [(21, 29, "support."), (0, 12, "Xi"), (13, 20, "Jinping"), (21, 29, "support.")]:
        assert raw[slice(*new_map.raw_span(start, end))] == expected

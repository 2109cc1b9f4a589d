"""The "did you mean" matcher: same answers as before, bounded cost whatever the input."""

import difflib

from mednet.errors import SUGGEST_MAX_CHARS, closest_names


def test_suggestions_name_the_closest_known_names_best_first():
    assert closest_names("华铺", ["华埠镇卫生院", "杨林镇卫生院"]) == ["华埠镇卫生院"]
    assert closest_names("cardiolgy", ["cardiology", "cardiac_surgery", "paediatrics"])[0] == "cardiology"
    assert closest_names("   ", ["x"]) == [] and closest_names("zzzz", ["paediatrics"]) == []


def test_a_huge_name_is_compared_by_a_bounded_prefix_only(monkeypatch):
    seen: list[int] = []
    for method in ("set_seq1", "set_seq2"):
        real = getattr(difflib.SequenceMatcher, method)

        def spy(self, seq, real=real):
            seen.append(len(seq))
            return real(self, seq)

        monkeypatch.setattr(difflib.SequenceMatcher, method, spy)
    known = [f"卫生院{i:04d}" + "镇" * (i % 300) for i in range(2000)]
    closest_names("卫生院0001" + "x" * 7000, known)
    assert seen and max(seen) <= SUGGEST_MAX_CHARS

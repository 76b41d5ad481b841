"""The agreement heuristic and the offline model's seed, on their own."""

from __future__ import annotations

import pytest

from mapek.batch.agreement import agreement, content_words, label, similarity


def test_similarity_is_word_overlap() -> None:
    assert similarity("Proceed in stages.", "proceed in STAGES") == 1.0
    # {proceed, stages} against {not, proceed}: one shared of three
    assert similarity("Proceed in stages", "Do not proceed at all") == pytest.approx(1 / 3)
    assert similarity("", "   ") is None
    assert similarity("migrate now", "") == 0.0
    assert "not" in content_words("do not migrate")  # a negation counts
    assert label(0.9) == "agree" and label(0.4) == "partly" and label(0.1) == "split"
    assert label(None) == "n/a"


def _cell(panel: str, model: str, repeat: int, decision: str, recs: list[str],
          finished: bool = True) -> dict[str, object]:
    return {"panel": panel, "model": model, "repeat": repeat, "finished": finished,
            "decisions": [decision], "recommendations": recs}


def test_agreement_compares_pairs_that_differ_in_one_factor_only() -> None:
    cells = [
        _cell("fin", "m1", 1, "Proceed in stages", ["cost over three years"]),
        _cell("prod", "m1", 1, "Proceed in stages", ["customer experience"]),
        _cell("fin", "m1", 2, "Proceed in stages", ["cost over three years"]),
        _cell("prod", "m1", 2, "Do not proceed", ["customer experience"]),
        _cell("fin", "m2", 1, "never", ["x"], finished=False),  # no synthesis: left out
    ]
    panels = agreement(cells, "panel")
    assert panels.pairs == 2  # (fin,r1)-(prod,r1) and (fin,r2)-(prod,r2)
    assert panels.decisions == pytest.approx((1.0 + 1 / 3) / 2)
    assert panels.recommendations == 0.0 and panels.label == "partly"
    repeats = agreement(cells, "repeat")
    assert repeats.pairs == 2 and repeats.recommendations == 1.0
    models = agreement(cells, "model")
    assert models.pairs == 0 and models.label == "n/a" and "not compared" in models.sentence()
    d = panels.to_dict()
    assert d["sentence"].startswith("Under a change of panel, the decision holds (decisions "
                                    "0.67, agree); the recommendations split (0.00)")


def test_the_offline_model_takes_other_choices_under_another_seed() -> None:
    from mapek.llm.offline import OfflineRequest

    msgs = [{"role": "user", "content": "Should we open an office in Berlin?"}]
    plain = OfflineRequest(messages=msgs, task="persona_turn")
    seeded = [OfflineRequest(messages=msgs, task="persona_turn", salt=s) for s in (1, 2, 1)]
    assert plain.seed != seeded[0].seed != seeded[1].seed
    assert seeded[0].seed == seeded[2].seed  # the same seed: the same draws
    assert plain.seed == OfflineRequest(messages=msgs, task="persona_turn").seed


def test_the_seed_parameter_reaches_the_offline_model_through_litellm() -> None:
    from mapek.llm.spec import ModelSpec
    from mapek.llm.types import ModelRequest

    req = ModelRequest(messages=[{"role": "user", "content": "Say something about Berlin."}],
                       task="chat")
    texts = {s: ModelSpec(name="mapek/offline", params={"seed": s}).build().complete(req).text
             for s in range(1, 9)}
    assert len(set(texts.values())) > 1  # other seeds, other replies
    again = ModelSpec(name="mapek/offline", params={"seed": 3}).build().complete(req).text
    assert again == texts[3]

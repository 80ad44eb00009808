"""The control catalogue: well formed, cites the right paragraphs, matches the pack and the docs."""

from __future__ import annotations

from generator.controls import (
    ROOT_DOC,
    articles_for_check,
    check_ids,
    control,
    controls,
    controls_markdown,
)
from generator.policies import pack_checks


def test_catalogue_and_pack_name_the_same_checks() -> None:
    assert set(pack_checks()) == set(check_ids())


def test_every_control_cites_paragraph_level_articles() -> None:
    for c in controls():
        assert bool(c.articles) != c.policy, c.id
        for article in c.articles:
            assert article == "44" or "(" in article, (c.id, article)


def test_art_44_only_for_transfers_and_safespring_as_policy() -> None:
    # Art. 44 concerns a destination outside the EU/EEA; "not Safespring" is this project's own
    # policy, with a control of its own that cites no provision.
    assert articles_for_check("CKV_GDPR_11") == ("44",)
    assert articles_for_check("CKV_GDPR_28") == ()
    assert articles_for_check("CKV_GDPR_16") == ()
    assert control("GDPR-RES-2").policy


def test_seed_misnumberings_are_corrected() -> None:
    # Storage limitation is 5(1)(e); the seed's "minimisation (A5.1.e)" is not cited as 5(1)(e).
    assert control("GDPR-LIM-1").articles == ("5(1)(e)",)
    assert "5(1)(e)" not in control("GDPR-ACC-1").articles
    # Resilience is 32(1)(b), restore is 32(1)(c).
    assert "32(1)(b)" in control("GDPR-RED-1").articles
    assert "32(1)(c)" not in control("GDPR-RED-1").articles
    assert control("GDPR-BAK-1").articles == ("32(1)(c)",)
    # Protection by design is 25(1) (the seed says 25(2)); residency is Chapter V, Art. 44.
    assert "25(1)" in control("GDPR-ENC-1").articles
    assert control("GDPR-RES-1").articles == ("44",)
    # The seed's wording stays visible where it differs.
    assert "32.1c" in (control("GDPR-RED-1").seed_citation or "")


def test_docs_are_generated_from_the_catalogue() -> None:
    assert ROOT_DOC.read_text("utf-8") == controls_markdown(), (
        "docs/controls.md is stale: python -c 'from generator.controls import write_docs; write_docs()'")


def test_every_control_has_its_anchor_in_the_docs() -> None:
    text = controls_markdown()
    for c in controls():
        assert f"\n## {c.id}\n" in text
        assert c.url.endswith(f"#{c.anchor}")

"""What a run still holds when its review starts: a StageRunner wrapper for tests."""

from __future__ import annotations

import gc
import weakref

from reconcile.pipeline import estimate_stage, remember_stage, review_stage


class HeldAtReview:
    """Wraps a StageRunner: notes weak references to tonight's matching memory (as
    remember_stage is given it) and to each list's scored pairs (as estimate_stage is), and,
    when review_stage is called, which of them anything still holds (`held`) and what `at_review`
    gives (`seen`)."""

    def __init__(self, call, at_review=lambda: None):
        self._call, self._at_review = call, at_review
        self.refs: dict[str, list] = {}
        self.kept: tuple | None = None  # (the memory's pairs, its duplicates)
        self.held: dict[str, list[bool]] | None = None
        self.seen = None

    def __call__(self, stage, /, *args, **kwargs):
        if stage is remember_stage:
            memory = args[2]
            self.refs["memory"] = [weakref.ref(memory.pairs), weakref.ref(memory.candidates)]
            self.kept = (len(memory.pairs), memory.duplicates.copy())
        if stage is estimate_stage:
            self.refs["scored"] = [weakref.ref(item.scored) for item in args[0]]
        if stage is review_stage:
            gc.collect()
            self.held = {
                what: [ref() is not None for ref in refs] for what, refs in self.refs.items()
            }
            self.seen = self._at_review()
        return self._call(stage, *args, **kwargs)

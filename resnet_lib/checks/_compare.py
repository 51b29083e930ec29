"""Comparing the learner's graph with the reference's (`match`), for the checks.

Operations are paired by connectivity (each operation's inputs, as a set for an addition), kind,
settings and names; the order in which the layers were created and the order of an addition's
operands do not matter.
"""

from __future__ import annotations

from keras import layers

from resnet_lib.checks._graph import Graph, bn_axis_message, describe, kind, settings
from resnet_lib.checks._learner import fail


def _same_inputs(kind_name: str, ours: list[str], theirs: list[str]) -> bool:
    return sorted(ours) == sorted(theirs) if kind_name == "add" else ours == theirs


def _listing(names) -> str:
    return " and ".join(f"`{name}`" for name in names) or "nothing"


def setting_difference(owner: str, operation, counterpart) -> str | None:
    """A message naming the first setting in which `operation` differs from `counterpart`, or None."""
    ours, theirs = settings(operation), settings(counterpart)
    for key, value in theirs.items():
        if ours.get(key) != value:
            if key == "axis" and kind(operation) == "bn":
                return bn_axis_message(owner, operation)
            return (f"{owner}: `{operation.name}` ({type(operation).__name__}) has {key}={ours.get(key)!r}; the "
                    f"library's `{counterpart.name}` has {key}={value!r}.")
    return None


class _Matcher:
    """Pairs the operations of `ours` with those of `reference` (see `match`)."""

    def __init__(self, ours: Graph, reference: Graph, owner: str, library: str, naming: str):
        self.ours, self.reference, self.owner, self.library, self.naming = ours, reference, owner, library, naming
        self.pairs = {ours.input.name: reference.input.name}
        self.taken = {reference.input.name}

    def candidates(self, operation, inputs: list[str]) -> list:
        """Unpaired operations of the reference with the same kind and inputs, those with equal settings first."""
        found = [r for r in self.reference.order if r.name not in self.taken and kind(r) == kind(operation)
                 and _same_inputs(kind(r), inputs, self.reference.parent_names[r.name])]
        return sorted(found, key=lambda r: settings(r) != settings(operation))

    def missing_between(self, ours_input: str, reference_input: str) -> list:
        """Reference layers on the single-input chain from `ours_input` to `reference_input`, if there is one."""
        chain, current = [], self.reference.get(reference_input)
        while current is not None and current.name != ours_input and len(chain) < 8:
            chain.append(current)
            parents = self.reference.parents_of(current)
            current = parents[0] if len(parents) == 1 else None
        return chain[::-1] if current is not None else []

    def input_difference(self, operation, counterpart, inputs: list[str]) -> str:
        theirs = self.reference.parent_names[counterpart.name]
        ours_names = [o.name for o in self.ours.parents_of(operation)]
        if len(inputs) == len(theirs) == 1:
            missing = self.missing_between(inputs[0], theirs[0])
            if missing:
                return (f"{self.owner}: {describe(missing[0])} is missing: in {self.library} it comes between "
                        f"`{inputs[0]}` and `{counterpart.name}`, and yours applies `{operation.name}` to "
                        f"`{ours_names[0]}` directly.")
        return (f"{self.owner}: `{operation.name}` receives {_listing(ours_names)}; in {self.library} "
                f"`{counterpart.name}` receives {_listing(theirs)}.")

    def unexpected(self, operation, inputs: list[str]) -> str:
        ours_names = _listing(o.name for o in self.ours.parents_of(operation))
        following = [child for child in self.reference.children_of(self.reference.get(inputs[0]))
                     if child.name not in self.taken] if inputs else []
        there = (f"; there, {_listing(inputs)} feeds {', '.join(describe(c) for c in following)}" if following
                 else "")
        return (f"{self.owner}: {describe(operation)}, applied to {ours_names}, has no counterpart in "
                f"{self.library}{there}.")

    def pair(self, operation) -> None:
        inputs = [self.pairs[parent] for parent in self.ours.parent_names[operation.name]]
        nameable = isinstance(operation, layers.Layer)  # keras.ops operations (and `+`) cannot be named
        counterpart = self.reference.get(operation.name) if nameable else None
        if counterpart is not None and counterpart.name in self.taken:
            counterpart = None
        if counterpart is None:
            found = self.candidates(operation, inputs)
            if not found:
                fail(self.unexpected(operation, inputs))
            counterpart = found[0]
            if nameable:
                fail(f"{self.owner}: your {type(operation).__name__} `{operation.name}` (applied to "
                     f"{_listing(o.name for o in self.ours.parents_of(operation))}) must be named "
                     f"`{counterpart.name}`, as in {self.library}. {self.naming}")
        if kind(operation) != kind(counterpart):
            fail(f"{self.owner}: `{operation.name}` is a {type(operation).__name__} ({kind(operation)}); in "
                 f"{self.library} `{counterpart.name}` is a {type(counterpart).__name__} ({kind(counterpart)}).")
        if not _same_inputs(kind(operation), inputs, self.reference.parent_names[counterpart.name]):
            fail(self.input_difference(operation, counterpart, inputs))
        difference = setting_difference(self.owner, operation, counterpart)
        if difference:
            fail(difference)
        self.pairs[operation.name] = counterpart.name
        self.taken.add(counterpart.name)


def match(ours: Graph, reference: Graph, *, owner: str, library: str, naming: str = "") -> dict[str, str]:
    """Pairs every operation of `ours` with one of `reference`, or fails naming the first difference.

    Operations are visited inputs first, so the first difference found is where the two networks
    part, not one of its consequences. Each operation must have the kind, settings and inputs of its
    counterpart (the inputs of an addition in any order); a Keras layer must also have its name (the
    names are how weights are copied), while a keras.ops operation, which cannot be named, is
    paired by position.

    Args:
        ours: the learner's graph.
        reference: the library's graph.
        owner: the learner's function name, to start messages with.
        library: how to call the reference in messages, e.g. "resnet_lib.resnet50".
        naming: a sentence on the naming scheme, added to messages about a name.

    Returns:
        The reference's name for each of the learner's operations.
    """
    matcher = _Matcher(ours, reference, owner, library, naming)
    for operation in ours.order:
        if operation is not ours.input:
            matcher.pair(operation)
    for counterpart in reference.order:
        if counterpart.name not in matcher.taken:
            fail(f"{owner}: your network has nothing in place of {describe(counterpart)}, which {library} applies to "
                 f"{_listing(reference.parent_names[counterpart.name])}.")
    if matcher.pairs[ours.output.name] != reference.output.name:
        fail(f"{owner}: your model's output is `{ours.output.name}`; in {library} it is `{reference.output.name}`.")
    return matcher.pairs


__all__ = ["match", "setting_difference"]

"""The generic linker on a seeded benchmark: typos, swapped names, missing values, one-edit IDs."""

import random

import pandas as pd

from reconcile.matching.linker import link_tables
from reconcile.normalize.names import fold

from synthetic.people import FAMILIES, GIVEN, HAMLETS

FIELDS = {"given": "name", "family": "name", "born": "date", "pid": "id", "hamlet": "category"}


def _typo(rng: random.Random, text: str) -> str:
    i = rng.randrange(len(text))
    return text[:i] + rng.choice("aeinoth") + text[i + 1 :]


def benchmark(n: int = 1500, seed: int = 8) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = random.Random(seed)
    people = []
    for i in range(n):
        sex = rng.choice("MF")
        people.append(
            {
                "key": i,
                "given": fold(rng.choice(GIVEN[sex])),
                "family": fold(rng.choice(FAMILIES)[0]),
                "born": f"{rng.randint(1930, 2020)}{rng.randint(1, 12):02d}"
                f"{rng.randint(1, 28):02d}",
                "pid": f"{rng.randint(0, 10**9 - 1):09d}",
                "hamlet": rng.choice(HAMLETS),
            }
        )
    left = pd.DataFrame(people)
    noisy = []
    for person in people:
        row = dict(person)
        for _ in range(rng.choice([0, 1, 1, 2])):
            noise = rng.random()
            if noise < 0.3:
                row["given"] = _typo(rng, row["given"])
            elif noise < 0.45:
                row["given"], row["family"] = row["family"], row["given"]
            elif noise < 0.6:
                row["born"] = _typo(rng, row["born"].replace("a", "1"))
            elif noise < 0.75:
                row["pid"] = None
            elif noise < 0.9 and row["pid"]:
                row["pid"] = _typo(rng, row["pid"]).translate(str.maketrans("aeinoth", "1234567"))
            else:
                row["hamlet"] = None
        noisy.append(row)
    right = pd.DataFrame(noisy).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return left, right


def test_generic_linker_quality_floor():
    left, right = benchmark()
    result = link_tables(left, right, FIELDS)
    found = set(
        zip(
            left["key"].to_numpy()[result.links["left"]],
            right["key"].to_numpy()[result.links["right"]],
            strict=True,
        )
    )
    true_positives = sum(a == b for a, b in found)
    precision, recall = true_positives / len(found), true_positives / len(left)
    assert precision >= 0.995 and recall >= 0.98, (precision, recall)
    assert result.model.prior <= len(left) / len(result.pairs)  # no more matches than rows
    # every decision explains itself field by field
    assert result.explain(0).count(":") == len(FIELDS)


def test_agreeing_on_a_rare_name_weighs_more_than_on_a_common_one():
    left = pd.DataFrame({"given": ["an", "xuyen"], "family": ["nguyen", "nguyen"]})
    right = pd.DataFrame(
        {"given": ["an"] * 80 + ["xuyen"] * 2 + ["binh", "chi"] * 20, "family": ["nguyen"] * 122}
    )
    result = link_tables(
        left, right, {"given": "name", "family": "name"}, one_to_one=False, threshold=0.0
    )
    scores = result.pairs.groupby("left")["score"].max()
    assert scores[1] > scores[0] + 3  # "xuyen" is forty times rarer than "an"

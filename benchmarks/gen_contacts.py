"""Generate realistic contact files for the validation benchmark.

Phones come in the shapes CRMs and spreadsheets produce: national with punctuation, bare
digits, a leading 1, +1 with spaces, E.164; a few percent foreign (E.164 or with spaces),
a few percent invalid (too short, letters, unassigned area codes), some empty optional phones;
a few duplicate ids. Deterministic for a given seed.

    python benchmarks/gen_contacts.py OUT.csv --rows 1000000 [--seed 1]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

# Area codes in service in the US and Canada (a sample), so most numbers are valid like a
# real list's.
AREA_CODES = [
    "201",
    "202",
    "203",
    "205",
    "206",
    "207",
    "208",
    "209",
    "210",
    "212",
    "213",
    "214",
    "215",
    "216",
    "217",
    "218",
    "219",
    "224",
    "225",
    "228",
    "229",
    "231",
    "234",
    "239",
    "240",
    "248",
    "251",
    "252",
    "253",
    "254",
    "256",
    "260",
    "262",
    "267",
    "269",
    "270",
    "276",
    "281",
    "301",
    "302",
    "303",
    "304",
    "305",
    "307",
    "308",
    "309",
    "310",
    "312",
    "313",
    "314",
    "315",
    "316",
    "317",
    "318",
    "319",
    "320",
    "321",
    "323",
    "325",
    "330",
    "334",
    "336",
    "337",
    "339",
    "347",
    "351",
    "352",
    "360",
    "361",
    "386",
    "401",
    "402",
    "404",
    "405",
    "406",
    "407",
    "408",
    "409",
    "410",
    "412",
    "413",
    "414",
    "415",
    "417",
    "419",
    "423",
    "425",
    "432",
    "434",
    "435",
    "440",
    "443",
    "469",
    "470",
    "475",
    "478",
    "479",
    "480",
    "484",
    "501",
    "502",
    "503",
    "504",
    "505",
    "507",
    "508",
    "509",
    "510",
    "512",
    "513",
    "515",
    "516",
    "517",
    "518",
    "520",
    "530",
    "540",
    "541",
    "551",
    "559",
    "561",
    "562",
    "563",
    "567",
    "570",
    "571",
    "573",
    "574",
    "580",
    "585",
    "586",
    "601",
    "602",
    "603",
    "605",
    "606",
    "607",
    "608",
    "609",
    "610",
    "612",
    "614",
    "615",
    "616",
    "617",
    "618",
    "619",
    "620",
    "623",
    "626",
    "630",
    "631",
    "636",
    "641",
    "646",
    "650",
    "651",
    "660",
    "661",
    "662",
    "678",
    "682",
    "701",
    "702",
    "703",
    "704",
    "706",
    "707",
    "708",
    "712",
    "713",
    "714",
    "715",
    "716",
    "717",
    "718",
    "719",
    "720",
    "724",
    "727",
    "731",
    "732",
    "734",
    "740",
    "754",
    "757",
    "760",
    "763",
    "765",
    "769",
    "770",
    "772",
    "773",
    "774",
    "775",
    "781",
    "785",
    "786",
    "801",
    "802",
    "803",
    "804",
    "805",
    "806",
    "808",
    "810",
    "812",
    "813",
    "814",
    "815",
    "816",
    "817",
    "818",
    "828",
    "830",
    "831",
    "832",
    "843",
    "845",
    "847",
    "848",
    "850",
    "856",
    "857",
    "858",
    "859",
    "860",
    "862",
    "863",
    "864",
    "865",
    "870",
    "901",
    "903",
    "904",
    "906",
    "907",
    "908",
    "909",
    "910",
    "912",
    "913",
    "914",
    "915",
    "916",
    "917",
    "918",
    "919",
    "920",
    "925",
    "928",
    "931",
    "936",
    "937",
    "940",
    "941",
    "947",
    "949",
    "951",
    "952",
    "954",
    "956",
    "970",
    "971",
    "972",
    "973",
    "978",
    "979",
    "980",
    "985",
    "989",
    "416",
    "604",
    "514",
    "403",
    "613",
    "780",
    "905",
    "647",
    "438",
    "902",
]
FOREIGN = (
    ("+44 20 {a} {b}", 4, 4),
    ("+4930{a}{b}", 4, 4),
    ("+33 1 {a} {b}", 4, 4),
    ("+61 2 {a} {b}", 4, 4),
    ("+52 55 {a} {b}", 4, 4),
    ("+91 98{a}{b}", 4, 4),
    ("+81 3-{a}-{b}", 4, 4),
)
INVALID = ("12345", "n/a", "555-1234", "(000) 000-0000", "+1 111 222 3333", "call me", "0")
FIRST = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "Ana",
    "Luis",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Nguyen",
]
CITIES = ("New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Toronto", "São Paulo")


def phone(rnd: random.Random, optional: bool) -> str:
    if optional and rnd.random() < 0.4:
        return ""
    r = rnd.random()
    if r < 0.03:
        fmt, la, lb = rnd.choice(FOREIGN)
        return fmt.format(a=rnd.randrange(10**la), b=rnd.randrange(10**lb)).replace(" 0", " 1")
    if r < 0.05:
        return rnd.choice(INVALID)
    npa = rnd.choice(AREA_CODES)
    nxx = rnd.randrange(200, 1000)
    line = rnd.randrange(10000)
    shape = rnd.randrange(8)
    if shape == 0:
        return f"({npa}) {nxx}-{line:04d}"
    if shape == 1:
        return f"{npa}-{nxx}-{line:04d}"
    if shape == 2:
        return f"{npa}.{nxx}.{line:04d}"
    if shape == 3:
        return f"{npa}{nxx}{line:04d}"
    if shape == 4:
        return f"+1 {npa} {nxx} {line:04d}"
    if shape == 5:
        return f"+1{npa}{nxx}{line:04d}"
    if shape == 6:
        return f"1-{npa}-{nxx}-{line:04d}"
    return f" {npa} {nxx} {line:04d} "


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("customerId,firstName,lastName,phoneNumber,homePhone,email,city\n")
        out = []
        for i in range(rows):
            cid = f"C{i:09d}" if rnd.random() > 0.001 else f"C{rnd.randrange(max(i, 1)):09d}"
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            email = f"{first.lower()}.{last.lower()}{i}@example.com" if rnd.random() > 0.2 else ""
            city = rnd.choice(CITIES)
            if "," in city or '"' in city:
                city = f'"{city}"'
            out.append(
                f"{cid},{first},{last},{phone(rnd, False)},{phone(rnd, True)},{email},{city}\n"
            )
            if len(out) >= 50_000:
                fh.writelines(out)
                out.clear()
        fh.writelines(out)


SCHEMA = {
    "name": "benchmark list",
    "fields": [
        {
            "name": "customerId",
            "type": "string",
            "required": True,
            "format": None,
            "phone_type": None,
        },
        {
            "name": "firstName",
            "type": "string",
            "required": False,
            "format": None,
            "phone_type": None,
        },
        {
            "name": "lastName",
            "type": "string",
            "required": False,
            "format": None,
            "phone_type": None,
        },
        {
            "name": "phoneNumber",
            "type": "string",
            "required": True,
            "format": "E.164",
            "phone_type": "cell",
        },
        {
            "name": "homePhone",
            "type": "string",
            "required": False,
            "format": "E.164",
            "phone_type": "home",
        },
        {
            "name": "email",
            "type": "string",
            "required": False,
            "format": "email",
            "phone_type": None,
        },
        {"name": "city", "type": "string", "required": False, "format": None, "phone_type": None},
    ],
    "id_column": "customerId",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    generate(a.out, a.rows, a.seed)


if __name__ == "__main__":
    main()

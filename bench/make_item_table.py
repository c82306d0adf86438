#!/usr/bin/env python3
"""An item table for `serve --item-table` from a bench rows file: one line per distinct value of the key field
(the first row holding it wins), with the key and every item-side field (those not in --context-fields).

    python3 bench/make_item_table.py --rows bench/out/rows-XXXX.jsonl --key C14 --out bench/out/items.csv
"""
import argparse
import csv
import json


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", required=True, help="JSONL of raw rows (bench/gen_rows.py)")
    parser.add_argument("--key", default="C14", help="the item id field (default C14, Criteo's first item field here)")
    parser.add_argument("--context-fields", default=",".join([f"I{i}" for i in range(1, 14)] + [f"C{i}" for i in range(1, 14)]),
                        help="comma-separated request-level fields, left out of the table (default Criteo's I1-I13, C1-C13)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    context = set(args.context_fields.split(","))
    rows = [json.loads(line) for line in open(args.rows) if line.strip()]
    columns = [args.key]
    for row in rows:
        for key in row:
            if key not in context and key not in columns:
                columns.append(key)
    seen = set()
    with open(args.out, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            key = row.get(args.key)
            if key is None or key in seen:
                continue
            seen.add(key)
            writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    print(f"{args.out}: {len(seen)} items, columns {','.join(columns)}")


if __name__ == "__main__":
    main()

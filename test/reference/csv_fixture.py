"""CSV files written by Python's csv module, and the rows Python's csv.reader reads back from them, for
test/core/io-csv.test.ts (an independent reference for cleave's CSV parser).

Rerun (deterministic): python3 test/reference/csv_fixture.py
"""
import csv
import io
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "io")
os.makedirs(OUT, exist_ok=True)

rows = [
    ["index", "id", "caption", "url", "class"],
    ["0", "a1", "plain caption", "http://x/0.jpg", "dog"],
    ["1", "a2", "with, a comma", "http://x/1.jpg", "cat"],
    ["2", "a3", 'she said "hello"', "", "dog"],
    ["3", "a4", "two\nlines", "http://x/3.jpg?a=1,b=2", "bird"],
    ["4", "a5", "", "", ""],
    ["5", "a6", " leading and trailing spaces ", "http://x/5.jpg", "cat"],
    ["6", "a7", "unicode: café – 東京 🐦", "http://x/6.jpg", "bird"],
    ["7", "a8", '"quoted start', "crlf\r\ninside", "dog"],
]

expected = {}
for name, terminator in [("tricky_crlf.csv", "\r\n"), ("tricky_lf.csv", "\n")]:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator=terminator)
    writer.writerows(rows)
    text = buf.getvalue()
    with open(os.path.join(OUT, name), "w", newline="", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(OUT, name), newline="", encoding="utf-8") as f:
        expected[name] = [r for r in csv.reader(f) if r]

with open(os.path.join(OUT, "csv_expected.json"), "w", encoding="utf-8") as f:
    json.dump(expected, f, ensure_ascii=False, indent=1)
print("wrote", list(expected))

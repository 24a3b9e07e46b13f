#!/usr/bin/env python3
"""Writes the nb-*.ipynb files test-nb reads: notebooks as Jupyter saves
them, made with the json module the way nbformat's writer does (sources and
output texts split into lines, keys sorted, indent 1, no ASCII escaping,
a final newline), so that the tests need no Jupyter. A session: a 4.4
notebook without cell ids, edited; then upgraded to 4.5 (cells gain ids)
and edited again: cells moved, typed into, run, retyped, attachments.
Run it from this folder: python3 make-nb.py"""
import copy
import json

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
       "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\n")


def lines(s):
    return s.splitlines(True)


def md(src, **kw):
    c = {"cell_type": "markdown", "metadata": {}, "source": lines(src)}
    c.update(kw)
    return c


def code(src, outputs=(), n=None, **kw):
    c = {"cell_type": "code", "execution_count": n, "metadata": {},
         "outputs": list(outputs), "source": lines(src)}
    c.update(kw)
    return c


def stream(text):
    return {"name": "stdout", "output_type": "stream", "text": lines(text)}


def result(text, n):
    return {"data": {"text/plain": lines(text)}, "execution_count": n,
            "metadata": {}, "output_type": "execute_result"}


def image():
    return {"data": {"image/png": PNG, "text/plain": ["<Figure size 640x480>"]},
            "metadata": {}, "output_type": "display_data"}


def notebook(cells, minor):
    return {"cells": cells, "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python",
                       "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.2"}},
        "nbformat": 4, "nbformat_minor": minor}


def write(name, nb):
    with open(name, "w", encoding="utf-8") as f:
        f.write(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False))
        f.write("\n")


v1 = [
    md("# Growth of *E. coli* at 37 °C\n\nData from the plate reader."),
    code("import numpy as np\nimport matplotlib.pyplot as plt", n=1),
    code("od = np.loadtxt('od600.csv')\nod.mean()",
         [result("0.4213", 2)], n=2),
    code("for t in range(3):\n    print(t, od[t])",
         [stream("0 0.05\n1 0.07\n2 0.11\n")], n=3),
    code("plt.plot(od)", [image()], n=4),
    {"cell_type": "raw", "metadata": {}, "source": lines("raw λ text")},
]
write("nb-v4.4-1.ipynb", notebook(v1, 4))

v2 = copy.deepcopy(v1)
v2.insert(1, md("## Setup"))
v2[3]["source"] = lines("od = np.loadtxt('od600.csv')\nod.mean(), od.std()")
v2[3]["outputs"] = [result("(0.4213, 0.1034)", 5)]
v2[3]["execution_count"] = 5
del v2[6]
write("nb-v4.4-2.ipynb", notebook(v2, 4))

ids = ["3f2a9c1e", "b07d41aa", "5c9e0f12", "e41b7d03", "90ac55d1",
       "1d2e3f4a"]
v3 = copy.deepcopy(v2)
for c, i in zip(v3, ids):
    c["id"] = i
write("nb-v4.5-1.ipynb", notebook(v3, 5))

v4 = copy.deepcopy(v3)
v4[5], v4[3] = v4[3], v4[5]              # two cells swap places
v4[0]["source"] = lines("# Growth of *E. coli* at 30 °C\n\nData: plate reader 2.")
v4[2]["execution_count"] = 6
v4.append(md("![plot](attachment:fig.png)", id="7a7a7a7a",
             attachments={"fig.png": {"image/png": PNG}}))
v4.append(code("", id="empty-cell"))
write("nb-v4.5-2.ipynb", notebook(v4, 5))

v5 = copy.deepcopy(v4)
v5[1]["cell_type"] = "raw"               # markdown turned raw
v5[4]["source"] = lines("for t in range(4):\n    print(t, od[t], '✓')")
v5[4]["outputs"] = [stream("0 0.05 ✓\n1 0.07 ✓\n2 0.11 ✓\n3 0.16 ✓\n")]
v5.insert(0, v5.pop())                   # last cell to the top
v5[0]["source"] = lines("%matplotlib inline")
write("nb-v4.5-3.ipynb", notebook(v5, 5))

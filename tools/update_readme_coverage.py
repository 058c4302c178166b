"""Refresh the coverage table in README.md from `python -m ember compat` (run from the repo
root, with this checkout's ember importable).

    python tools/update_readme_coverage.py

Keeps the rows the table already lists (in their order) plus any namespace given with --add,
updates their figures and the date, and always ends with the `all namespaces` row.
"""
import argparse
import datetime
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = re.compile(r'<!-- BEGIN COVERAGE TABLE: the output of `ember compat` on [\d-]+ -->')
END = '<!-- END COVERAGE TABLE -->'
ROW = re.compile(r'^\| (\S+) \| \d+ \| \d+ \| \d+% \|$')


def compat_rows():
    out = subprocess.run([sys.executable, '-m', 'ember', 'compat'], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        m = re.match(r'^(torch\S*|all namespaces)\s+(\d+)\s+(\d+)\s+\d+%$', line)
        if m:
            rows[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--add', nargs='*', default=[], help='namespaces to add to the table')
    a = p.parse_args(argv)
    path = os.path.join(ROOT, 'README.md')
    text = open(path, encoding='utf-8').read()
    start, end = BEGIN.search(text), text.index(END)
    block = text[start.end():end]
    rows = compat_rows()
    listed = [ROW.match(ln).group(1) for ln in block.splitlines() if ROW.match(ln)]
    names = [n for n in listed if n != 'all'] + [n for n in a.add if n not in listed]

    def line(name, label=None):
        done, total = rows[name]
        return f'| {label or name} | {done} | {total} | {100 * done / total:.0f}% |'
    table = [line(n) for n in names if n in rows] + [line('all namespaces')]
    lines = block.splitlines()
    first = next(i for i, ln in enumerate(lines) if ROW.match(ln) or ln.startswith('| all '))
    rest = [ln for ln in lines[first:] if not (ROW.match(ln) or ln.startswith('| all '))]
    block = '\n'.join(lines[:first] + table + rest).rstrip('\n') + '\n\n'
    head = f'<!-- BEGIN COVERAGE TABLE: the output of `ember compat` on {datetime.date.today()} -->'
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text[:start.start()] + head + block + text[end:])
    done, total = rows['all namespaces']
    print(f'README coverage table: {len(table)} rows, all namespaces {done}/{total}')


if __name__ == '__main__':
    main()

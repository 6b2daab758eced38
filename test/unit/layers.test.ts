// The tree's layering, as docs/design.md "The tree" describes it: calls go down, decisions come
// back up. Each file imports only from its own row of that table or the rows below; no module of
// src/ may reach itself again through its imports (type-only imports included: a type shared both
// ways is a concept that belongs lower, in its own file); nothing outside entries/ imports an entry
// point. The table is read from the document, so the document and the tree cannot drift apart.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** Every relative import and re-export of each file, static or dynamic, as paths relative to src/. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(src)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)].map((match) =>
      relative(src, resolve(dirname(file), `${match[1]}.ts`)),
    );
    graph.set(relative(src, file), [...new Set(targets)]);
  }
  return graph;
}

/** The cycles of the graph, each as the path that closes it (depth-first, one per back edge). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

/** The rows of design.md's "The tree" table, top first: the paths (files, or folders ending in /) of each. */
function documentedLayers(): string[][] {
  const text = readFileSync(join(root, 'docs/design.md'), 'utf8');
  const lines = text.slice(text.indexOf('### The tree')).split('\n');
  const end = lines.findIndex((line, i) => i > 0 && line.startsWith('#'));
  expect(end).toBeGreaterThan(0);
  const rows = lines.slice(0, end).filter((line) => line.startsWith('| ') && !line.startsWith('| layer'));
  return rows.map((row) => [...(row.split('|')[2] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1]!));
}

/** The row of a file: the row naming it, else the row naming its nearest folder. */
function rowOf(layers: string[][], file: string): number {
  const exact = layers.findIndex((row) => row.includes(file));
  if (exact >= 0) return exact;
  let best = -1;
  let length = 0;
  layers.forEach((row, i) => {
    for (const path of row) if (path.endsWith('/') && file.startsWith(path) && path.length > length) [best, length] = [i, path.length];
  });
  return best;
}

it('every file of src/ has its row in design.md "The tree", and every row names files that exist', () => {
  const layers = documentedLayers();
  const graph = importGraph();
  expect(layers.length).toBeGreaterThan(5);
  expect([...graph.keys()].filter((file) => rowOf(layers, file) < 0)).toEqual([]);
  expect(layers.flat().filter((path) => ![...graph.keys()].some((file) => file === path || (path.endsWith('/') && file.startsWith(path))))).toEqual([]);
});

it('each file imports only from its own row of design.md "The tree" or the rows below it', () => {
  const layers = documentedLayers();
  const upward = [...importGraph()].flatMap(([file, targets]) =>
    targets.filter((target) => rowOf(layers, target) < rowOf(layers, file)).map((target) => `${file} -> ${target}`),
  );
  expect(upward).toEqual([]);
});

it('every import of src/ resolves to a file of src/ (the graph below is the whole graph)', () => {
  const graph = importGraph();
  const missing = [...graph].flatMap(([file, targets]) => targets.filter((target) => !graph.has(target)).map((target) => `${file} -> ${target}`));
  expect(missing).toEqual([]);
  expect(graph.size).toBeGreaterThan(50);
});

it('no module of src/ reaches itself through its imports', () => {
  expect(cycles(importGraph()).map((cycle) => cycle.join(' -> '))).toEqual([]);
});

it('only entry points import entry points', () => {
  const upward = [...importGraph()].flatMap(([file, targets]) =>
    file.startsWith('entries/') ? [] : targets.filter((target) => target.startsWith('entries/')).map((target) => `${file} -> ${target}`),
  );
  expect(upward).toEqual([]);
});

it('the cycle check finds a cycle (the check itself is live)', () => {
  const graph = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
  expect(cycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
});

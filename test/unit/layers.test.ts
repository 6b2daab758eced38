// The tree's layering, as docs/design.md describes it: calls go down, decisions come back up. No
// module of src/ may reach itself again through its imports (type-only imports included: a type
// shared both ways is a concept that belongs lower, in its own file), and nothing outside
// entries/ imports an entry point.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

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

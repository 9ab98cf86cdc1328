/**
 * The product as the bench's server child serves it: the built package (`dist/`, what a bank runs),
 * or with BENCH_SOURCES=1 the TypeScript sources through tsx. tsx rewrites every named function it
 * loads so that each closure made per request also calls a naming helper; the anchors, plain
 * JavaScript from node_modules, pay nothing of the kind, so sources would overstate the product's cost.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

type Product = typeof import('../lib/index.js');

export const fromSources = process.env.BENCH_SOURCES === '1';

/** What the bench measures, for its report. */
export const productBuild = fromSources ? 'TypeScript sources through tsx (BENCH_SOURCES=1)' : 'the built package (dist/)';

/** Builds dist/ of a checkout with its own TypeScript, so that the servers serve the current code. */
export function buildProduct(root: string): void {
  if (fromSources) return;
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
}

export async function loadProduct(): Promise<Product> {
  if (fromSources) return import('../lib/index.js');
  return await import(new URL('../dist/lib/index.js', import.meta.url).href) as Product;
}

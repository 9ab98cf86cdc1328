/**
 * Fails when a package of the production dependency tree runs a script at install time
 * (`preinstall`, `install`, `postinstall`, or a `binding.gyp` that npm builds): what a bank's
 * `npm install` of this package would run. Such scripts can fetch binaries or report installs to
 * third parties, and banks audit them. Reads the installed tree (`npm ls --omit=dev`), so run it
 * after `npm ci`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'] as const;

interface Manifest {
  readonly name?: string;
  readonly version?: string;
  readonly scripts?: Record<string, string>;
  readonly gypfile?: boolean;
}

/** The folders of the root's production dependencies, transitive ones included, as npm installed them. */
function productionPackages(root: string): string[] {
  // npm ls also exits non-zero for an extraneous or invalid package; the list is complete all the same.
  const { stdout, error } = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (error || !stdout.trim()) throw new Error(`npm ls gave no dependency tree${error ? `: ${error.message}` : ''}`);
  return [...new Set(stdout.split('\n').map((line) => line.trim()).filter((line) => line && line !== root))];
}

/** What `dir`'s package runs when it is installed, as `name@version: script: command` lines. */
function installScriptsOf(dir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
  const id = `${manifest.name ?? dir}@${manifest.version ?? '?'}`;
  const found = INSTALL_SCRIPTS.filter((name) => manifest.scripts?.[name]).map((name) => `${id}: ${name}: ${manifest.scripts![name]}`);
  // npm runs `node-gyp rebuild` for a binding.gyp when the package declares no install script.
  if (!manifest.scripts?.install && !manifest.scripts?.preinstall && manifest.gypfile !== false && existsSync(join(dir, 'binding.gyp'))) {
    found.push(`${id}: install: node-gyp rebuild (binding.gyp)`);
  }
  return found;
}

const root = process.cwd();
const packages = productionPackages(root);
const found = packages.flatMap(installScriptsOf);
if (found.length) {
  console.error(`${found.length} install script(s) in the production dependency tree:`);
  for (const line of found) console.error(`  ${line}`);
  process.exit(1);
}
console.log(`no install scripts among the ${packages.length} packages of the production dependency tree`);

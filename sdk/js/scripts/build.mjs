// Builds dist/ (ESM, CommonJS, type declarations) and fails when the minified+gzipped ESM bundle exceeds the budget.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET = 10 * 1024;
const common = { entryPoints: [join(root, 'src/index.ts')], bundle: true, target: 'es2018', logLevel: 'warning' };

rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
await build({ ...common, format: 'esm', outfile: join(root, 'dist/index.js') });
await build({ ...common, format: 'cjs', outfile: join(root, 'dist/index.cjs') });

const minified = await build({ ...common, format: 'esm', minify: true, write: false });
const bytes = minified.outputFiles[0].contents;
const gzipped = gzipSync(bytes, { level: 9 }).length;
const kb = (n) => (n / 1024).toFixed(2) + ' KB';
console.log(`bundle size: ${kb(bytes.length)} minified, ${kb(gzipped)} minified+gzipped (budget ${kb(BUDGET)})`);
if (gzipped > BUDGET) {
  console.error(`the ESM bundle is over budget by ${gzipped - BUDGET} bytes`);
  process.exit(1);
}

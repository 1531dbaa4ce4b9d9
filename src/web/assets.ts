// The page's files: our own (src/web/public) and the three browser libraries, served from the
// installed packages (never a CDN): Preact with htm in one ES module, and uPlot with its CSS.
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** Package root from its main file (these packages do not export their package.json). */
function packageDir(name: string, mainDepth: number): string {
  let dir = dirname(require.resolve(name));
  for (let level = 0; level < mainDepth; level++) dir = dirname(dir);
  return dir;
}

const VENDOR: Record<string, { file: string; type: string }> = {
  'preact-htm.js': {
    file: join(packageDir('htm', 1), 'preact', 'standalone.module.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'uplot.js': { file: join(packageDir('uplot', 1), 'dist', 'uPlot.esm.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { file: join(packageDir('uplot', 1), 'dist', 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export function registerAssets(app: FastifyInstance): void {
  const index = readFileSync(join(PUBLIC_DIR, 'index.html'), 'utf8');
  app.get('/', (request, reply) => {
    const path = request.url.split('?')[0];
    // The page loads everything by relative URL, so it must be opened at <prefix>/.
    if (!path.endsWith('/')) return reply.redirect(`${path}/${request.url.slice(path.length)}`, 308);
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(index);
  });
  app.get('/assets/vendor/:file', (request, reply) => {
    const vendor = VENDOR[(request.params as { file: string }).file];
    if (!vendor) return reply.code(404).send({ error: 'no such file', statusCode: 404 });
    return reply.type(vendor.type).header('cache-control', 'public, max-age=3600').send(createReadStream(vendor.file));
  });
  void app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    cacheControl: true,
    maxAge: 0,
  });
}

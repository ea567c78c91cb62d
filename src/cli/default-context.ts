import { resolveHome } from '../core/config/paths.js';
import type { Context, GlobalOptions, Prompter } from './context.js';
import type { IO } from './io.js';
import type { Style } from './output/style.js';

export function makeContext(io: IO, env: NodeJS.ProcessEnv, style: Style): Context {
  let prompter: Prompter | undefined;
  return {
    io,
    env,
    style,
    info: (m) => void io.stderr.write(`${m}\n`),
    warn: (m) => void io.stderr.write(`${style.yellow(`Warning: ${m}`)}\n`),
    async prompter() {
      if (!prompter) {
        const { makePrompter } = await import('./prompter.js');
        prompter = makePrompter(io);
      }
      return prompter;
    },
    home: (g: GlobalOptions) => resolveHome(g.home, env),
    async openStore(g: GlobalOptions) {
      const { EndpointStore } = await import('../core/store/db.js');
      return EndpointStore.open(resolveHome(g.home, env));
    },
    async readStore(g: GlobalOptions) {
      const { EndpointStore } = await import('../core/store/db.js');
      return EndpointStore.openExisting(resolveHome(g.home, env));
    },
    async secrets(store, g) {
      const { chooseBackend, openSecretStore, parseBackendName, defaultKeyFile } = await import('../core/secrets/index.js');
      const requested = g.secretStore
        ? { value: parseBackendName(g.secretStore, '--secret-store'), source: '--secret-store' }
        : env.NBWSS_SECRET_STORE
          ? { value: parseBackendName(env.NBWSS_SECRET_STORE, 'NBWSS_SECRET_STORE'), source: 'NBWSS_SECRET_STORE' }
          : undefined;
      const name = chooseBackend(store.secretBackend, requested);
      return openSecretStore(name, { home: store.home, storeId: store.storeId, keyFile: defaultKeyFile(env) });
    },
  };
}

import { resolveHome } from '../core/config/paths.js';
import { safeLines } from '../core/text.js';
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
    // Warnings quote details files and URLs: escaped before they are styled.
    warn: (m) => void io.stderr.write(`${style.yellow(`Warning: ${safeLines(m)}`)}\n`),
    async prompter() {
      if (!prompter) {
        const { makePrompter } = await import('./prompter.js');
        prompter = makePrompter(io);
      }
      return prompter;
    },
    home: (g: GlobalOptions) => resolveHome(g.home, env),
    async openStore(globals: GlobalOptions) {
      const { EndpointStore, storeUrl } = await import('../core/store/db.js');
      return EndpointStore.open(resolveHome(globals.home, env), { url: storeUrl(globals.store, env) });
    },
    async readStore(globals: GlobalOptions) {
      const { EndpointStore, storeUrl } = await import('../core/store/db.js');
      return EndpointStore.openExisting(resolveHome(globals.home, env), storeUrl(globals.store, env));
    },
    async secrets(store, globals) {
      const { backendFor, openSecretStore, defaultKeyFile } = await import('../core/secrets/index.js');
      const name = backendFor(store.secretBackend, globals.secretStore, env, store.isShared);
      return openSecretStore(name, { home: store.home, storeId: store.storeId, keyFile: defaultKeyFile(env), shared: store.shared?.secrets });
    },
    async probeBeforeCreating(globals) {
      const { EndpointStore, storeUrl } = await import('../core/store/db.js');
      const home = resolveHome(globals.home, env);
      if (EndpointStore.exists(home, storeUrl(globals.store, env))) return;
      const { backendFor, openSecretStore, defaultKeyFile } = await import('../core/secrets/index.js');
      if (backendFor(undefined, globals.secretStore, env) !== 'keychain') return;
      // A new store would use the keychain: ask it before a store is created for nothing.
      (await openSecretStore('keychain', { home, storeId: 'probe', keyFile: defaultKeyFile(env) })).probe();
    },
  };
}

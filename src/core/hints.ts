/**
 * How the core's messages name what to do next: the one table of the CLI's
 * commands, flags and variables that hints and doctor's fixes mention. A
 * second front end (a web console, say) words them its own way by replacing
 * the table with useWords(); the core never spells a command itself.
 */
export interface Words {
  show(host: string): string;
  list: string;
  repin(host: string): string;
  deleteHost(host: string): string;
  addFile: string;
  tokenSet(host: string): string;
  doctor: string;
  doctorFix: string;
  check: string;
  status: string;
  configSet(key: string, value: string): string;
  configUnset(key: string): string;
  secretStore(name: string): string;
  secretStoreFlags: string;
  home: string;
  caFile: string;
  timeout: string;
  keyFileVar: string;
  homeVar: string;
  debug: string;
  apiPin: string;
  notify: string;
  apiKeySet: string;
  apiLogin: string;
  apiTest: string;
}

const CLI_WORDS: Words = {
  show: (host) => `nbwss show ${host}`,
  list: 'nbwss list',
  repin: (host) => `nbwss repin ${host}`,
  deleteHost: (host) => `nbwss delete ${host}`,
  addFile: 'nbwss add --file DETAILS.json',
  tokenSet: (host) => `nbwss token set ${host}`,
  doctor: 'nbwss doctor',
  doctorFix: 'nbwss doctor --fix',
  check: 'nbwss check',
  status: 'nbwss status',
  configSet: (key, value) => `nbwss config set ${key} ${value}`,
  configUnset: (key) => `nbwss config unset ${key}`,
  secretStore: (name) => `--secret-store ${name}`,
  secretStoreFlags: '--secret-store file or NBWSS_SECRET_STORE=file',
  home: '--home',
  caFile: '--ca-file',
  timeout: '--timeout',
  keyFileVar: 'NBWSS_SECRET_KEY_FILE',
  homeVar: 'NBWSS_HOME',
  debug: 'NBWSS_DEBUG=1',
  apiPin: 'nbwss api pin',
  notify: 'nbwss notify',
  apiKeySet: 'nbwss api key set < key.txt',
  apiLogin: 'nbwss api login --user NAME',
  apiTest: 'nbwss api test',
};

/** The words in force (the CLI's unless a front end said otherwise). */
export let W: Words = CLI_WORDS;

export function useWords(words: Words): void {
  W = words;
}

// Reads (or lists) what the Secret Service holds for a service, from a
// separate process: node test/helpers/keyring-probe.mjs SERVICE [ACCOUNT]
import { Entry, findCredentials } from '@napi-rs/keyring';

const [service, account] = process.argv.slice(2);
if (account) {
  const v = new Entry(service, account, { linux: { store: 'secret-service' } }).getPassword();
  process.stdout.write(JSON.stringify(v ?? null));
} else {
  process.stdout.write(
    JSON.stringify(
      findCredentials(service)
        .map((c) => c.account)
        .sort(),
    ),
  );
}

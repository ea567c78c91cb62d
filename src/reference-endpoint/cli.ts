// npm run endpoint -- --port N --token T [--host H] [--reject-token] [--silent-to-pings] [--details FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startReferenceEndpoint } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    token: { type: 'string' },
    'reject-token': { type: 'boolean', default: false },
    'silent-to-pings': { type: 'boolean', default: false },
    details: { type: 'string' },
  },
});
const token = values.token ?? process.env.NBWSS_ENDPOINT_TOKEN;
if (!token) {
  process.stderr.write('usage: npm run endpoint -- --port N --token T (or NBWSS_ENDPOINT_TOKEN=T) [--host H] [--reject-token] [--silent-to-pings] [--details FILE]\n');
  process.exit(2);
}
const ep = await startReferenceEndpoint({ port: Number(values.port), host: values.host, token, rejectToken: values['reject-token'], silentToPings: values['silent-to-pings'] });
if (values.details) writeFileSync(values.details, `${JSON.stringify(ep.details(), null, 2)}\n`, { mode: 0o600 });
process.stderr.write(`reference endpoint listening on ${ep.url}\ncertificate SHA-256 ${ep.fingerprint}\n`);
const stop = () => void ep.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

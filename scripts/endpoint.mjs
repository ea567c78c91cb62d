// npm run endpoint: the reference endpoint, built once (scripts/built.mjs).
import { runBuilt } from './built.mjs';

await runBuilt('lab/endpoint.js');

// npm run primary: the NetBackup primary stand-in, built once (scripts/built.mjs).
import { runBuilt } from './built.mjs';

await runBuilt('lab/primary.js');

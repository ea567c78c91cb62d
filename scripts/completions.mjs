// npm run completions: write completions/ from the built CLI, so the files
// in the repository are exactly what `nbwss completion SHELL` prints (a test
// fails when they differ).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/nbwss.cjs', import.meta.url));
const files = { bash: 'completions/nbwss.bash', zsh: 'completions/_nbwss', fish: 'completions/nbwss.fish' };
for (const [shell, file] of Object.entries(files)) {
  writeFileSync(new URL(`../${file}`, import.meta.url), execFileSync(process.execPath, [bin, 'completion', shell]));
  console.log(`wrote ${file}`);
}

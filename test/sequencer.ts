import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that spend most of their time waiting, longest first: started before the others, so that they wait beside
 * the files that keep the CPU busy instead of after them (vitest's own order is the largest file first, which put
 * the outages last: the run's last minutes were one worker waiting out a 3-minute outage).
 */
const WAITING_FILES = ['test/e2e/store-outage.test.ts'];

export class WaitingFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => WAITING_FILES.findIndex((p) => f.moduleId.replaceAll('\\', '/').endsWith(p));
    const waiting = sorted.filter((f) => rank(f) >= 0).sort((a, b) => rank(a) - rank(b));
    return [...waiting, ...sorted.filter((f) => rank(f) < 0)];
  }
}

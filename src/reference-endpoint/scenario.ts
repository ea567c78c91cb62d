/**
 * The scenario driver of the stand-in primary: NetBackup's side of the
 * guide's examples, played step by step on the jobs and images a poller
 * reads. The backup of a VMware Intelligent Policy (examples A to G: the
 * parent discovery job, the snapshot child, the backup child, an image
 * created and one updated, the three completions), then a restore
 * ("Restore job done") and an image deletion.
 *
 * Job and image ids, names and types are the guide's; times are the guide's
 * shifted so that the parent job starts at `at` (default: now), because a
 * poller watches recent images and jobs, not 2016's. `shift` says by how much.
 */
import type { ImageAttributes, JobAttributes, NetBackupApi } from './netbackup-api.js';

/** The guide's parent job start time (example A). */
export const GUIDE_PARENT_START = 1459829674;

export interface ScenarioStep {
  /** The guide's name for what NetBackup notifies after this step. */
  name: string;
  apply(primary: NetBackupApi): void;
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

export interface Scenario {
  /** Seconds added to every guide time. */
  shift: number;
  /** Puts the catalog as it was before the backup: the image that example D updates. */
  prepare(primary: NetBackupApi): void;
  steps: ScenarioStep[];
}

export function guideScenario(at = Math.floor(Date.now() / 1000)): Scenario {
  const shift = at - GUIDE_PARENT_START;
  const shifted = (guide: number) => iso(guide + shift);
  const vmJob = (job: Partial<JobAttributes> & { jobId: number }): Partial<JobAttributes> & { jobId: number } => ({
    jobType: 'BACKUP',
    policyType: 'VMWARE',
    policyName: 'vmware2',
    // Jobs say FULL_BACKUP, images FULL (the scheduleType enums of admin.yaml and catalog.yaml, 10.3–11.2).
    scheduleType: 'FULL_BACKUP',
    scheduleName: 'full',
    status: 0,
    ...job,
  });
  const image = (backupTime: number, copyCount: number): ImageAttributes => ({
    backupId: `DummyTestVM_${backupTime + shift}`,
    clientName: 'DummyTestVM',
    policyName: 'vmware2',
    policyType: 'VMWARE',
    scheduleType: 'FULL',
    backupTime: shifted(backupTime),
    expiration: shifted(backupTime + 14 * 86_400),
    kilobytes: 1_048_576,
    copyCount,
  });
  return {
    shift,
    prepare: (p) => p.setImage(image(1459811686, 1)),
    steps: [
      {
        name: 'A. Start of a parent backup job (discovery)',
        apply: (p) =>
          void p.setJob(vmJob({ jobId: 144, parentJobId: 144, clientName: 'masterserver2.domain.com', state: 'ACTIVE', startTime: shifted(1459829674) })),
      },
      {
        name: 'B. Start of the child snapshot job',
        apply: (p) => void p.setJob(vmJob({ jobId: 145, parentJobId: 144, clientName: 'DummyTestVM', state: 'ACTIVE', startTime: shifted(1459829686) })),
      },
      {
        name: 'C. Start of child backup job (actual backup)',
        apply: (p) => void p.setJob(vmJob({ jobId: 146, parentJobId: 145, clientName: 'DummyTestVM', state: 'ACTIVE', startTime: shifted(1459829698) })),
      },
      {
        name: 'D. Image creation',
        apply: (api) => {
          api.setImage(image(1459811698, 1));
          api.setImage(image(1459811686, 2)); // a second copy: the image changed
        },
      },
      { name: 'E. Backup job complete (actual backup job)', apply: (p) => void p.setJob({ jobId: 146, state: 'DONE', endTime: shifted(1459829720) }) },
      { name: 'F. Snapshot job complete', apply: (p) => void p.setJob({ jobId: 145, state: 'DONE', endTime: shifted(1459829730) }) },
      { name: 'G. Parent backup job complete', apply: (p) => void p.setJob({ jobId: 144, state: 'DONE', endTime: shifted(1459829734) }) },
      {
        name: 'Restore job done',
        apply: (api) =>
          void api.setJob({
            jobId: 147,
            parentJobId: 147,
            jobType: 'RESTORE',
            policyType: 'STANDARD',
            policyName: '',
            scheduleType: 'FULL_BACKUP',
            scheduleName: '',
            clientName: 'masterserver2.domain.com',
            status: 0,
            state: 'DONE',
            startTime: shifted(1459830185),
            endTime: shifted(1459830200),
          }),
      },
      { name: 'Image deletion', apply: (p) => void p.deleteImage(`DummyTestVM_${1459811686 + shift}`) },
    ],
  };
}

/** Play the steps in order; `between` runs after each (a test waits there for the step's notifications). */
export async function runScenario(
  primary: NetBackupApi,
  scenario: Scenario,
  between: (step: ScenarioStep, index: number) => Promise<void> = async () => {},
): Promise<void> {
  for (const [i, step] of scenario.steps.entries()) {
    step.apply(primary);
    await between(step, i);
  }
}

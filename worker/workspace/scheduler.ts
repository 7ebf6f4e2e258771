/**
 * The workspace's one alarm. A Durable Object has a single alarm, so every
 * module with something to do later registers here as a job: it may arm
 * the alarm sooner, and when the alarm fires every job runs in order of
 * registration, after which the alarm is re-armed to the earliest deadline
 * any job still has. Only a registered job can arm the alarm, so no
 * deadline is ever forgotten when the alarm is re-armed.
 */

/** Something the alarm does, and when it next needs to. */
export interface ScheduledJob {
  /** Does whatever is due now. A throw fails the alarm, and the runtime retries it. */
  run(): Promise<void>;
  /** The job's next deadline (epoch ms), asked after every job has run; null when it has none. */
  nextAt(): number | null;
}

/** What a registered job holds: the right to wake the object sooner. */
export interface AlarmHandle {
  /** Makes the alarm fire at `at` at the latest (it never moves a sooner alarm later). */
  arm(at: number): Promise<void>;
}

/** Fired alarms run again no sooner than this, so a job that is always due cannot spin. */
const MIN_GAP_MS = 1000;

/** The one alarm: the earliest deadline of all registered jobs. */
export class Scheduler {
  private readonly jobs: ScheduledJob[] = [];

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Adds a job; the handle arms the alarm for it. */
  register(job: ScheduledJob): AlarmHandle {
    this.jobs.push(job);
    return { arm: (at) => this.arm(at) };
  }

  private async arm(at: number): Promise<void> {
    const current = await this.storage.getAlarm();
    if (current === null || current > at) await this.storage.setAlarm(at);
  }

  /** The alarm handler: runs every job, then re-arms to the earliest deadline left. */
  async fire(): Promise<void> {
    for (const job of this.jobs) await job.run();
    const next = this.jobs.map((job) => job.nextAt()).filter((at): at is number => at !== null);
    if (next.length > 0) await this.storage.setAlarm(Math.max(Date.now() + MIN_GAP_MS, Math.min(...next)));
  }
}

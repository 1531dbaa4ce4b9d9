// Fetching the jobs a command names or lists, with "not found" as a refusal (exit code 1).
import type { Client, Job, RecurringJob } from '../../client/index.ts';
import { JobNotFoundError, QlessError } from '../../client/errors.ts';

/** The job or recurring job with this jid. */
export async function findJob(client: Client, jid: string): Promise<Job | RecurringJob> {
  const job = await client.jobs.get(jid);
  if (job === null) throw new JobNotFoundError(`job ${jid} does not exist`);
  return job;
}

/** A plain (not recurring) job; `action` names what cannot be done to a recurring one. */
export async function findPlainJob(client: Client, jid: string, action: string): Promise<Job> {
  const job = await findJob(client, jid);
  if (job.state === 'recur') throw new QlessError(`${jid} is a recurring job: it cannot be ${action}`);
  return job;
}

/**
 * The jobs behind a list of jids, in that order. Plain jobs come in one multiget; recurring
 * templates (only `jobs recurring` lists them) one by one. A jid gone in between is skipped.
 */
export async function loadJobs(client: Client, jids: readonly string[]): Promise<(Job | RecurringJob)[]> {
  const found = new Map<string, Job | RecurringJob>();
  for (const job of await client.jobs.multiget(...jids)) found.set(job.jid, job);
  for (const jid of jids) {
    if (found.has(jid)) continue;
    const job = await client.jobs.get(jid);
    if (job !== null) found.set(jid, job);
  }
  return jids.flatMap((jid) => found.get(jid) ?? []);
}

/** Every jid of a failure group, newest first (one read; the client's page also loads each job). */
export async function failedJids(client: Client, group: string): Promise<string[]> {
  // `failed <group> 0 0` is the whole group: offset 0 to index -1.
  const reply = await client.call('failed', group, '0', '0');
  const page = typeof reply === 'string' ? (JSON.parse(reply) as { jobs?: unknown }) : {};
  return Array.isArray(page.jobs) ? page.jobs.map(String) : [];
}

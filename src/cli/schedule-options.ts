import { Option, type Command } from 'commander';
import { upgradeWhenSchema } from '../api/schemas/upgrades';
import type { UpgradeWhen } from '../upgrades/schedule';
import { UsageError } from './errors';

/**
 * When a CLI command's upgrades run, as `when` in `POST /v1/upgrades` and `POST /v1/campaigns` says it
 * (docs/scheduled-upgrades.md): no option runs now, `--date YYYY-MM-DD` on that UTC day, `--at-renewal` at the
 * source's renewal through Microsoft's scheduled change. Written once for the commands that start upgrades (today
 * `campaign create`; the CLI has no single-upgrade start yet) and checked with the API's own `when` schema; the rules
 * of the day (after today, within the term) are the use case's.
 */
export interface ScheduleOptions {
  date?: string;
  atRenewal?: boolean;
}

export function addScheduleOptions(command: Command): Command {
  return command
    .addOption(new Option('--date <YYYY-MM-DD>', "run on this UTC day, 00:00 UTC (after today, within each source's term)").conflicts('atRenewal'))
    .addOption(new Option('--at-renewal', "at each source's renewal, through Microsoft's scheduled change (nothing prorated)"));
}

/** The `when` the options ask for; undefined: now. A date that is not a calendar day is a usage error naming it. */
export function scheduleOf(options: ScheduleOptions): Exclude<UpgradeWhen, { type: 'now' }> | undefined {
  if (options.atRenewal) return { type: 'at_renewal' };
  if (options.date === undefined) return undefined;
  const parsed = upgradeWhenSchema.safeParse({ type: 'on_date', date: options.date });
  if (!parsed.success) throw new UsageError(`--date ${parsed.error.issues.map((issue) => issue.message).join('; ')}, got "${options.date}"`);
  return parsed.data as Extract<UpgradeWhen, { type: 'on_date' }>;
}

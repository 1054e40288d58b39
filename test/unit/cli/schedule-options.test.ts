import { Command } from 'commander';
import { UsageError } from '../../../src/cli/errors';
import { addScheduleOptions, scheduleOf } from '../../../src/cli/schedule-options';

/** The CLI's schedule options (src/cli/schedule-options.ts): the API's `when`, from the command line. */

function parse(args: string[]) {
  const command = addScheduleOptions(new Command().exitOverride().configureOutput({ writeErr: () => undefined }));
  command.parse(args, { from: 'user' });
  return scheduleOf(command.opts());
}

test('no option is now; --date is that day; --at-renewal is at renewal', () => {
  expect(parse([])).toBeUndefined();
  expect(parse(['--date', '2028-02-29'])).toEqual({ type: 'on_date', date: '2028-02-29' });
  expect(parse(['--at-renewal'])).toEqual({ type: 'at_renewal' });
});

test('a date that is not a calendar day is a usage error naming --date and the rule', () => {
  for (const date of ['2027-02-29', '2027-13-01', '27-01-01', 'tomorrow']) {
    expect(() => parse(['--date', date])).toThrow(new UsageError(`--date must be a calendar date YYYY-MM-DD, got "${date}"`));
  }
});

test('both schedules at once are refused by the parser', () => {
  expect(() => parse(['--date', '2027-03-01', '--at-renewal'])).toThrow(/--date.*cannot be used with.*--at-renewal/);
});

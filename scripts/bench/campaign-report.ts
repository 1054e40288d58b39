/**
 * `npm run bench -- --campaign-report 10000 [--database postgresql|sqlite]`
 *
 * The report of an at-renewal campaign of N items after its renewals (docs/campaigns.md): every item's upgrade is read
 * as it stands at export. The campaign, its N items and their N upgrades (plus N unrelated upgrades) are written
 * straight to the database — scheduling N real upgrades would mean N workflows and N renewal days — on `npm start`'s
 * embedded database. The report is exported three times as it is built (its upgrades read in one query on their
 * indexed `campaignId`), then three times with `campaignId` removed from every upgrade, which is how upgrades recorded
 * before they carried it are read (one exact `_id` lookup each): the baseline, in the same run. Both exports must be
 * byte for byte the same. Prints the median of each and their ratio; writes bench-results/campaign-report-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { campaignModelsOf } from '../../src/db/campaign-models';
import { connectDatabase } from '../../src/db/connection';
import { campaignReportCsv } from '../../src/campaigns/read';
import { addContainmentIndexes } from '../../src/local-services/postgresql';
import type { DatabaseBackend } from '../../src/local-services/service-runner';
import { startBenchServices } from './support/services';
import { REPO_ROOT } from './support/child-worker';

const say = (message: string) => process.stdout.write(`[bench:campaign-report] ${new Date().toISOString().slice(11, 19)} ${message}\n`);
const BATCH = 1_000;
const EXPORTS = 3;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function runCampaignReportBench(options: { items: number; database: DatabaseBackend }): Promise<void> {
  const services = await startBenchServices(options.database, say);
  const databaseName = `bench_campaign_report_${Date.now()}`;
  const db = await connectDatabase(services.mongodbUri, databaseName);
  try {
    const { campaigns, campaignItems } = await campaignModelsOf(db.models);
    // As `npm start` does (src/dev.ts): FerretDB's btrees get the GIN twins its filters can use.
    if (services.postgresql) addContainmentIndexes(services.postgresql, databaseName);
    const campaignId = 'cmp_bench_report';
    const now = new Date();
    await campaigns.create({
      _id: campaignId,
      name: 'bench report',
      sourceProductId: 'basic',
      targetProductId: 'standard',
      destination: { type: 'new' },
      when: { type: 'at_renewal' },
      requestedByKeyId: 'operator',
      scopeAccountIds: null,
      status: 'completed',
      summary: { total: options.items, eligible: options.items, ineligible: 0, byReason: {}, totals: [] },
      seatReassignment: {},
      plannedAt: now,
      executedAt: now,
      endedAt: now,
    });
    const seedBegan = Date.now();
    const day = (index: number) => `2027-${String((index % 12) + 1).padStart(2, '0')}-01`;
    for (let start = 0; start < options.items; start += BATCH) {
      const indexes = Array.from({ length: Math.min(BATCH, options.items - start) }, (_, offset) => start + offset);
      const upgrade = (index: number, ofCampaign: boolean) => ({
        _id: `upg_bench_${ofCampaign ? 'c' : 'x'}_${String(index).padStart(7, '0')}`,
        requestFingerprint: 'bench',
        requestedByKeyId: 'operator',
        accountId: `acc_${Math.floor(index / 10)}`,
        request: { sourceSubscriptionId: `sub_${index}` },
        kind: 'full_to_new',
        destinationType: 'new',
        // After the renewals: most renewed, some rejected by Microsoft, some cancelled.
        status: index % 10 === 0 ? 'rejected' : index % 17 === 0 ? 'cancelled' : 'completed',
        dueDate: day(index),
        steps: { written_to_microsoft: { status: 'completed', at: now } },
        ...(ofCampaign ? { campaignId } : {}),
      });
      await db.models.upgrades.insertMany(indexes.flatMap((index) => [upgrade(index, true), upgrade(index, false)]) as never, { ordered: false });
      await campaignItems.insertMany(
        indexes.map((index) => ({
          _id: `${campaignId}:sub_${String(index).padStart(7, '0')}`,
          campaignId,
          subscriptionId: `sub_${index}`,
          accountId: `acc_${Math.floor(index / 10)}`,
          quantity: 10,
          eligible: true,
          currency: 'USD',
          credit: 0,
          debit: 0,
          dueDate: day(index),
          renewal: { unitPrice: 1250, firstCycleCharge: 12_500 },
          outcome: 'scheduled',
          upgradeId: `upg_bench_c_${String(index).padStart(7, '0')}`,
        })) as never,
        { ordered: false },
      );
    }
    say(`seeded a campaign of ${options.items} items, ${options.items * 2} upgrades in ${((Date.now() - seedBegan) / 1000).toFixed(1)} s`);

    const operator = { keyId: 'operator', accountIds: undefined, mayActOnAccount: () => true };
    const exportTimes = async (label: string): Promise<{ ms: number[]; csv: string }> => {
      const ms: number[] = [];
      let csv = '';
      for (let run = 0; run < EXPORTS; run += 1) {
        const began = performance.now();
        csv = await campaignReportCsv(db.models, operator, campaignId);
        ms.push(Math.round(performance.now() - began));
      }
      say(`${label}: ${ms.join(', ')} ms (median ${median(ms)} ms), ${csv.length} bytes`);
      return { ms, csv };
    };
    const byCampaign = await exportTimes('upgrades read by their campaign (one indexed query)');
    await db.models.upgrades.updateMany({ campaignId }, { $unset: { campaignId: 1 } });
    const byId = await exportTimes('baseline: upgrades read by id (as before they carried their campaign)');
    if (byCampaign.csv !== byId.csv) throw new Error('the two exports differ: the report must not depend on how the upgrades are read');
    const ratio = Math.round((median(byCampaign.ms) / median(byId.ms)) * 100) / 100;
    say(`report by campaign / by id = ${ratio} (the same ${byId.csv.split('\n').length - 2} rows)`);

    const result = {
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      at: new Date().toISOString(),
      items: options.items,
      database: options.database,
      byCampaignMs: byCampaign.ms,
      byIdMs: byId.ms,
      ratio,
    };
    const directory = join(REPO_ROOT, 'bench-results');
    mkdirSync(directory, { recursive: true });
    const file = join(directory, `campaign-report-${result.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    say(`written ${file}`);
  } finally {
    await db.connection.dropDatabase().catch(() => undefined);
    await db.close();
    await services.stop();
  }
}
